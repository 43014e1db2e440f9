//! Writes one patient as SS-MIX2 storage entries: an ADT-00 for the identity and one message
//! file per event, ISO-2022-JP encoded with CR segment ends, at their storage paths.
//!
//! What the writer carries (and [`crate::ssmix2::Ssmix2Reader`] reads back unchanged):
//! identity: patient ID (PID-3), names (PID-5 `L^I` / `L^P` pairs), birth date, sex, addresses
//! (postal code, text, municipality code), date of death (PID-29), insurances (insurer number,
//! symbol, number; not the branch number). Events: `Encounter(Outpatient)` (ADT-12),
//! `Encounter(Inpatient)` (ADT-22, end date in PV1-45), and coded `Diagnosis` (PPR-01),
//! `Prescription` (OMP-01, with amount, unit and end date) and `LabResult` (OML-11, with value
//! and unit) whose code system is ICD-10, MEDIS, JLAC10, HOT9 or YJ. Other events are not
//! written; encounters lose their code, value and unit; diagnoses and results lose an end date.

use tsumugi_model::{Date, EncounterClass, Event, EventKind, Sex, SourceRecord};

use crate::ssmix2::decode::system_name;
use crate::ssmix2::hl7::{encode, escape};

/// The file timestamp every written file carries (the writer takes no clock).
const TIMESTAMP: &str = "20000101000000000";

/// The storage entries `(relative path, bytes)` of one patient, `pid` being the storage
/// patient ID (digits or another ID without `/` and `_`, as SS-MIX2 requires). Characters
/// outside JIS X 0208 cannot be encoded in ISO-2022-JP and become numeric character references.
pub fn write_patient(record: &SourceRecord, pid: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    out.push(file(pid, "-", "ADT-00", 0, &adt00(record, pid)));
    let mut order = 0u64;
    for ev in &record.events {
        let Some((kind, body)) = message(ev, pid) else {
            continue;
        };
        order += 1;
        let date = if kind == "PPR-01" {
            "-".to_owned()
        } else {
            ymd(ev.date)
        };
        out.push(file(pid, &date, kind, order, &body));
    }
    out
}

fn file(pid: &str, date: &str, kind: &str, order: u64, body: &str) -> (String, Vec<u8>) {
    let chars: Vec<char> = pid.chars().collect();
    let part = |a: usize, b: usize| -> String {
        chars
            .get(a.min(chars.len())..b.min(chars.len()))
            .map_or_else(String::new, |s| s.iter().collect())
    };
    let name = format!("{pid}_{date}_{kind}_{order:015}_{TIMESTAMP}_-_1");
    let path = format!("{}/{}/{pid}/{date}/{kind}/{name}", part(0, 3), part(3, 6));
    (path, encode(body))
}

fn ymd(d: Date) -> String {
    d.format("%Y%m%d").to_string()
}

fn opt_ymd(d: Option<Date>) -> String {
    d.map(ymd).unwrap_or_default()
}

fn msh(message_type: &str) -> String {
    format!(
        "MSH|^~\\&|TSUMUGI|TSUMUGI|||{}||{message_type}|1|P|2.5||||||~ISO IR87||ISO 2022-1994\r",
        &TIMESTAMP[..14]
    )
}

/// A segment from its fields (`fields[0]` is field 1); trailing empty fields are trimmed.
fn segment(id: &str, fields: &[String]) -> String {
    let mut end = fields.len();
    while end > 0 && fields.get(end - 1).is_some_and(String::is_empty) {
        end -= 1;
    }
    let mut s = id.to_owned();
    for f in fields.iter().take(end) {
        s.push('|');
        s.push_str(f);
    }
    s.push('\r');
    s
}

/// Fields 1..=n, all empty, to be filled by position.
fn fields(n: usize) -> Vec<String> {
    vec![String::new(); n]
}

fn set(fields: &mut [String], n: usize, value: String) {
    if let Some(f) = n.checked_sub(1).and_then(|i| fields.get_mut(i)) {
        *f = value;
    }
}

fn esc(v: &Option<String>) -> String {
    v.as_deref().map(escape).unwrap_or_default()
}

fn adt00(record: &SourceRecord, pid: &str) -> String {
    let id = &record.identity;
    let mut s = msh("ADT^A08^ADT_A01");
    s.push_str(&format!("EVN||{}\r", &TIMESTAMP[..12]));
    let mut f = fields(30);
    set(&mut f, 1, "0001".to_owned());
    set(&mut f, 3, escape(id.patient_id.as_deref().unwrap_or(pid)));
    let names: Vec<String> = id
        .names
        .iter()
        .flat_map(|n| {
            [
                format!("{}^{}^^^^^L^I", esc(&n.family_kanji), esc(&n.given_kanji)),
                format!("{}^{}^^^^^L^P", esc(&n.family_kana), esc(&n.given_kana)),
            ]
        })
        .collect();
    set(&mut f, 5, names.join("~"));
    set(&mut f, 7, opt_ymd(id.birth_date));
    let sex = match id.sex {
        Sex::Male => "M",
        Sex::Female => "F",
        Sex::Unknown => "U",
    };
    set(&mut f, 8, sex.to_owned());
    let addresses: Vec<String> = id
        .addresses
        .iter()
        .map(|a| {
            format!(
                "^^^^{}^^H^{}^{}",
                esc(&a.postal_code),
                esc(&a.text),
                esc(&a.municipality_code)
            )
        })
        .collect();
    set(&mut f, 11, addresses.join("~"));
    set(&mut f, 29, opt_ymd(id.deceased_on));
    s.push_str(&segment("PID", &f));
    for (i, ins) in id.insurances.iter().enumerate() {
        let mut f = fields(11);
        set(&mut f, 1, (i + 1).to_string());
        set(&mut f, 3, esc(&ins.insurer_number));
        set(&mut f, 10, esc(&ins.symbol));
        set(&mut f, 11, esc(&ins.number));
        s.push_str(&segment("IN1", &f));
    }
    s
}

fn pid_segment(pid: &str) -> String {
    format!("PID|0001||{}\r", escape(pid))
}

/// The kind and text of the message carrying `ev`, if SS-MIX2 carries it.
fn message(ev: &Event, pid: &str) -> Option<(&'static str, String)> {
    let code = ev
        .code
        .as_ref()
        .and_then(|c| system_name(&c.system).map(|sys| format!("{}^^{sys}", escape(&c.value))));
    let value = ev.value.map(|v| v.to_string()).unwrap_or_default();
    let unit = esc(&ev.unit);
    match ev.kind {
        EventKind::Encounter(class @ (EncounterClass::Outpatient | EncounterClass::Inpatient)) => {
            let (kind, trigger, pv1_2) = match class {
                EncounterClass::Inpatient => ("ADT-22", "ADT^A01^ADT_A01", "I"),
                _ => ("ADT-12", "ADT^A04^ADT_A01", "O"),
            };
            let mut s = msh(trigger);
            s.push_str(&pid_segment(pid));
            let mut f = fields(45);
            set(&mut f, 1, "0001".to_owned());
            set(&mut f, 2, pv1_2.to_owned());
            set(&mut f, 44, ymd(ev.date));
            set(&mut f, 45, opt_ymd(ev.end_date));
            s.push_str(&segment("PV1", &f));
            Some((kind, s))
        }
        EventKind::Diagnosis => {
            let mut s = msh("PPR^ZD1^PPR_ZD1");
            s.push_str(&pid_segment(pid));
            let mut f = fields(16);
            set(&mut f, 1, "AD".to_owned());
            set(&mut f, 2, ymd(ev.date));
            set(&mut f, 3, code?);
            set(&mut f, 16, ymd(ev.date));
            s.push_str(&segment("PRB", &f));
            Some(("PPR-01", s))
        }
        EventKind::Prescription => {
            let mut s = msh("RDE^O11^RDE_O11");
            s.push_str(&pid_segment(pid));
            s.push_str("ORC|NW\r");
            s.push_str(&segment(
                "RXE",
                &[String::new(), code?, value, String::new(), unit],
            ));
            let mut f = fields(8);
            set(&mut f, 1, "1".to_owned());
            set(&mut f, 7, ymd(ev.date));
            set(&mut f, 8, opt_ymd(ev.end_date));
            s.push_str(&segment("TQ1", &f));
            Some(("OMP-01", s))
        }
        EventKind::LabResult => {
            let mut s = msh("OUL^R22^OUL_R22");
            s.push_str(&pid_segment(pid));
            s.push_str("SPM|1\rOBR|1\r");
            let mut f = fields(14);
            set(&mut f, 1, "1".to_owned());
            set(
                &mut f,
                2,
                if ev.value.is_some() { "NM" } else { "ST" }.to_owned(),
            );
            set(&mut f, 3, code?);
            set(&mut f, 5, value);
            set(&mut f, 6, unit);
            set(&mut f, 11, "F".to_owned());
            set(&mut f, 14, ymd(ev.date));
            s.push_str(&segment("OBX", &f));
            Some(("OML-11", s))
        }
        _ => None,
    }
}
