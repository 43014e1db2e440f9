//! One HL7 message → identity (ADT-00) or canonical events (every other supported kind).
//!
//! | kind | message | becomes |
//! |---|---|---|
//! | ADT-00 | ADT^A08 | identity: PID-3, PID-5 (`L^I` kanji, `L^P` kana), PID-7, PID-8, PID-11, PID-29, IN1-3/10/11 |
//! | ADT-12 | 外来受診 | `Encounter(Outpatient)`, date PV1-44 / EVN-6 / EVN-2, end PV1-45 |
//! | ADT-22 | 入院実施 | `Encounter(Inpatient)`, date PV1-44 / EVN-6 / EVN-2, end PV1-45 |
//! | ADT-52 | 退院実施 | closes the open inpatient stay (PV1-45 / EVN-6 / EVN-2), else a stay of its own |
//! | ADT-01/21/31/32/41/42/51/61/62 | plans, leaves, transfers, staff | ignored (no event) |
//! | PPR-01 | PPR^ZD1 | `Diagnosis` per code in PRB-3 (both triples) and PRB-10 (ICD-10), date PRB-16 / PRB-7 / PRB-2 |
//! | OMP-01/02 | RDE^O11 | `Prescription` per RXC-2 (mixtures) or else RXE-2, date TQ1-7 / ORC-9, end TQ1-8, amount RXC-3/RXE-3, unit RXC-4/RXE-5 |
//! | OMP-11/12 | RAS^O17 | `Prescription` per RXA-5 (administered), date RXA-3, end RXA-4, amount RXA-6, unit RXA-7 |
//! | OML-01 | OML^O33 (orders) | ignored (an order is not a result) |
//! | OML-11 | OUL^R22 | `LabResult` per OBX-3, value OBX-5, unit OBX-6, date OBX-14 / SPM-17 / OBR-7 |
//!
//! When no field carries a date, the date directory of the file is used.

use tsumugi_model::{
    Address, Code, CodeSystem, Date, Diagnostic, EncounterClass, Event, EventKind,
    IdentityAttributes, Insurance, PersonName, Sex,
};

use crate::ssmix2::error::{Location, Ssmix2Error};
use crate::ssmix2::hl7::{self, Message, Segment, SplitError};
use crate::ssmix2::path::FileMeta;

/// What one event message yields.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// A finished event.
    Event(Event),
    /// A discharge (ADT-52): closes an open inpatient stay.
    Discharge {
        admitted: Option<Date>,
        discharged: Date,
    },
}

/// The ADT kinds that carry no event of their own.
const IGNORED_KINDS: [&str; 10] = [
    "ADT-01", "ADT-21", "ADT-31", "ADT-32", "ADT-41", "ADT-42", "ADT-51", "ADT-61", "ADT-62",
    "OML-01",
];

fn split(bytes: &[u8]) -> Result<Message, Ssmix2Error> {
    hl7::parse(bytes).map_err(|e| match e {
        SplitError::Encoding => Ssmix2Error::InvalidEncoding,
        SplitError::NoHeader => Ssmix2Error::NotHl7,
    })
}

/// A fault that makes a message unusable, and the segment or field at fault.
pub(crate) type Fault = (Ssmix2Error, Option<&'static str>);

/// The identity an ADT-00 message states; an `Err` when it is unusable.
pub(crate) fn identity(
    bytes: &[u8],
    meta: &FileMeta,
    loc: &Location<'_>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<IdentityAttributes, Fault> {
    let msg = split(bytes).map_err(|e| (e, None))?;
    let Some(pid) = msg.first("PID") else {
        return Err((Ssmix2Error::MissingSegment, Some("PID")));
    };
    let mut id = IdentityAttributes::default();
    let patient_id = msg.value(pid, 3);
    id.patient_id = Some(if patient_id.is_empty() {
        warnings.push(loc.warning(Ssmix2Error::MissingPatientId, Some("PID-3")));
        meta.pid.clone()
    } else {
        patient_id
    });
    id.names = names(&msg, pid);
    id.birth_date = date_field(&msg, pid, "PID-7", 7, loc, warnings);
    id.sex = match msg.value(pid, 8).as_str() {
        "M" => Sex::Male,
        "F" => Sex::Female,
        _ => Sex::Unknown,
    };
    id.addresses = msg
        .repeats(pid, 11)
        .iter()
        .filter_map(|rep| address(&msg, rep))
        .collect();
    id.deceased_on = date_field(&msg, pid, "PID-29", 29, loc, warnings);
    id.insurances = msg
        .all("IN1")
        .filter_map(|in1| {
            let ins = Insurance {
                insurer_number: non_empty(msg.value(in1, 3)),
                symbol: non_empty(msg.value(in1, 10)),
                number: non_empty(msg.value(in1, 11)),
                branch: None,
            };
            (ins != Insurance::default()).then_some(ins)
        })
        .collect();
    Ok(id)
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn comp(msg: &Message, rep: &[&str], c: usize) -> Option<String> {
    non_empty(msg.leaf(rep.get(c - 1).copied().unwrap_or("")))
}

/// PID-5: a repetition with representation `I` (or none) starts a name; `P` fills the kana of
/// the current name when it has none yet.
fn names(msg: &Message, pid: &Segment) -> Vec<PersonName> {
    let mut out: Vec<(PersonName, bool)> = Vec::new();
    for rep in msg.repeats(pid, 5) {
        let family = comp(msg, &rep, 1);
        let given = comp(msg, &rep, 2);
        let phonetic = rep.get(7).is_some_and(|r| *r == "P");
        if phonetic {
            match out.last_mut() {
                Some((name, has_kana)) if !*has_kana => {
                    name.family_kana = family;
                    name.given_kana = given;
                    *has_kana = true;
                }
                _ => out.push((
                    PersonName {
                        family_kana: family,
                        given_kana: given,
                        ..PersonName::default()
                    },
                    true,
                )),
            }
        } else {
            let name = PersonName {
                family_kanji: family,
                given_kanji: given,
                ..PersonName::default()
            };
            out.push((name, false));
        }
    }
    out.into_iter()
        .map(|(n, _)| n)
        .filter(|n| *n != PersonName::default())
        .collect()
}

/// XAD: postal code in component 5, the address text in component 8 (SS-MIX2 writes the whole
/// address there) or else state, city, street, other; municipality code in component 9.
fn address(msg: &Message, rep: &[&str]) -> Option<Address> {
    let text = comp(msg, rep, 8).or_else(|| {
        let parts: String = [4, 3, 1, 2]
            .iter()
            .filter_map(|c| comp(msg, rep, *c))
            .collect();
        non_empty(parts)
    });
    let addr = Address {
        postal_code: comp(msg, rep, 5),
        text,
        municipality_code: comp(msg, rep, 9),
    };
    (addr != Address::default()).then_some(addr)
}

/// Parses an HL7 `YYYYMMDD[HHMM…]` timestamp; `Ok(None)` when empty.
pub(crate) fn parse_ts(s: &str) -> Result<Option<Date>, ()> {
    if s.is_empty() {
        return Ok(None);
    }
    let day = s
        .get(..8)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(())?;
    let rest_ok = s
        .get(8..)
        .is_some_and(|r| r.bytes().all(|b| b.is_ascii_digit() || b"+-.".contains(&b)));
    if !rest_ok {
        return Err(());
    }
    Date::parse_from_str(day, "%Y%m%d")
        .map(Some)
        .map_err(|_| ())
}

fn date_field(
    msg: &Message,
    seg: &Segment,
    name: &str,
    n: usize,
    loc: &Location<'_>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Date> {
    parse_ts(&msg.value(seg, n)).unwrap_or_else(|()| {
        warnings.push(loc.warning(Ssmix2Error::InvalidDate, Some(name)));
        None
    })
}

/// The first candidate that parses; invalid ones are warned about. Falls back to the file's
/// date directory.
fn first_date(
    candidates: &[(&str, String)],
    meta: &FileMeta,
    loc: &Location<'_>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Date> {
    for (name, raw) in candidates {
        match parse_ts(raw) {
            Ok(Some(d)) => return Some(d),
            Ok(None) => {}
            Err(()) => warnings.push(loc.warning(Ssmix2Error::InvalidDate, Some(name))),
        }
    }
    parse_ts(&meta.date).ok().flatten()
}

fn amount(
    raw: String,
    name: &str,
    loc: &Location<'_>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<f64> {
    if raw.trim().is_empty() {
        return None;
    }
    match raw.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            warnings.push(loc.warning(Ssmix2Error::NonNumericValue, Some(name)));
            None
        }
    }
}

/// The code system an HL7 coding-system name stands for.
pub(crate) fn code_system(name: &str) -> CodeSystem {
    match name {
        "I10" | "ICD10" => CodeSystem::Icd10,
        "MDCDX2" | "MDCDX" => CodeSystem::MedisDisease,
        "JC10" | "JLAC10" => CodeSystem::Jlac10,
        "HOT9" => CodeSystem::Hot9,
        "YJ" => CodeSystem::Yj,
        "" => CodeSystem::Other("hl7v2:local".to_owned()),
        other => CodeSystem::Other(other.to_owned()),
    }
}

/// The HL7 coding-system name the writer uses; `None` for systems SS-MIX2 does not carry.
pub(crate) fn system_name(system: &CodeSystem) -> Option<&'static str> {
    match system {
        CodeSystem::Icd10 => Some("I10"),
        CodeSystem::MedisDisease => Some("MDCDX2"),
        CodeSystem::Jlac10 => Some("JC10"),
        CodeSystem::Hot9 => Some("HOT9"),
        CodeSystem::Yj => Some("YJ"),
        _ => None,
    }
}

/// The code of the triple starting at component `first` of a CWE repetition.
fn cwe(msg: &Message, rep: &[&str], first: usize) -> Option<Code> {
    let value = comp(msg, rep, first)?;
    let system = comp(msg, rep, first + 2).unwrap_or_default();
    Some(Code::new(code_system(&system), value))
}

fn first_rep<'a>(msg: &Message, seg: &'a Segment, n: usize) -> Vec<&'a str> {
    msg.repeats(seg, n).into_iter().next().unwrap_or_default()
}

fn event(kind: EventKind, date: Date) -> Event {
    Event {
        kind,
        date,
        end_date: None,
        code: None,
        value: None,
        unit: None,
    }
}

/// The events of one non-ADT-00 message; problems are warnings (the message or item is lost,
/// the patient is kept).
pub(crate) fn events(
    bytes: &[u8],
    meta: &FileMeta,
    loc: &Location<'_>,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<Item> {
    if IGNORED_KINDS.contains(&meta.kind.as_str()) {
        return Vec::new();
    }
    let supported = [
        "ADT-12", "ADT-22", "ADT-52", "PPR-01", "OMP-01", "OMP-02", "OMP-11", "OMP-12", "OML-11",
    ];
    if !supported.contains(&meta.kind.as_str()) {
        warnings.push(loc.warning(Ssmix2Error::UnsupportedKind, None));
        return Vec::new();
    }
    let msg = match split(bytes) {
        Ok(m) => m,
        Err(e) => {
            warnings.push(loc.warning(e, None));
            return Vec::new();
        }
    };
    let mut cx = Cx {
        msg: &msg,
        meta,
        loc,
        warnings,
        out: Vec::new(),
    };
    match meta.kind.as_str() {
        "ADT-12" => cx.adt(Some(EncounterClass::Outpatient)),
        "ADT-22" => cx.adt(Some(EncounterClass::Inpatient)),
        "ADT-52" => cx.adt(None),
        "PPR-01" => cx.problems(),
        "OMP-01" | "OMP-02" => cx.prescriptions(),
        "OMP-11" | "OMP-12" => cx.administrations(),
        _ => cx.results(),
    }
    cx.out
}

struct Cx<'a, 'w> {
    msg: &'a Message,
    meta: &'a FileMeta,
    loc: &'a Location<'a>,
    warnings: &'w mut Vec<Diagnostic>,
    out: Vec<Item>,
}

impl Cx<'_, '_> {
    fn raw(&self, seg: Option<&Segment>, n: usize) -> String {
        seg.map_or_else(String::new, |s| self.msg.value(s, n))
    }

    fn date(&mut self, candidates: &[(&str, String)]) -> Option<Date> {
        let d = first_date(candidates, self.meta, self.loc, self.warnings);
        if d.is_none() {
            let field = candidates.first().map(|(n, _)| *n);
            self.warnings
                .push(self.loc.warning(Ssmix2Error::MissingDate, field));
        }
        d
    }

    fn optional_date(&mut self, name: &str, raw: &str) -> Option<Date> {
        parse_ts(raw).unwrap_or_else(|()| {
            self.warnings
                .push(self.loc.warning(Ssmix2Error::InvalidDate, Some(name)));
            None
        })
    }

    /// ADT-12 / ADT-22 (`Some(class)`) and ADT-52 (`None`: a discharge).
    fn adt(&mut self, class: Option<EncounterClass>) {
        let pv1 = self.msg.first("PV1");
        let evn = self.msg.first("EVN");
        if pv1.is_none() {
            self.warnings
                .push(self.loc.warning(Ssmix2Error::MissingSegment, Some("PV1")));
        }
        let admit = self.raw(pv1, 44);
        let discharge = self.raw(pv1, 45);
        let occurred = self.raw(evn, 6);
        let recorded = self.raw(evn, 2);
        match class {
            Some(class) => {
                let start = [("PV1-44", admit), ("EVN-6", occurred), ("EVN-2", recorded)];
                if let Some(date) = self.date(&start) {
                    let mut ev = event(EventKind::Encounter(class), date);
                    ev.end_date = self.optional_date("PV1-45", &discharge);
                    self.out.push(Item::Event(ev));
                }
            }
            None => {
                let admitted = self.optional_date("PV1-44", &admit);
                let end = [
                    ("PV1-45", discharge),
                    ("EVN-6", occurred),
                    ("EVN-2", recorded),
                ];
                if let Some(discharged) = self.date(&end) {
                    self.out.push(Item::Discharge {
                        admitted,
                        discharged,
                    });
                }
            }
        }
    }

    /// PPR-01: one diagnosis per distinct code of each PRB.
    fn problems(&mut self) {
        let msg = self.msg;
        let prbs: Vec<&Segment> = msg.all("PRB").collect();
        if prbs.is_empty() {
            self.warnings
                .push(self.loc.warning(Ssmix2Error::MissingSegment, Some("PRB")));
        }
        for prb in prbs {
            if msg.value(prb, 1) == "DE" {
                continue;
            }
            let main = first_rep(msg, prb, 3);
            let class = first_rep(msg, prb, 10);
            let mut codes: Vec<Code> = Vec::new();
            let icd = cwe(msg, &class, 1).filter(|c| c.system == CodeSystem::Icd10);
            for code in [cwe(msg, &main, 1), cwe(msg, &main, 4), icd]
                .into_iter()
                .flatten()
            {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
            if codes.is_empty() {
                self.warnings
                    .push(self.loc.warning(Ssmix2Error::MissingCode, Some("PRB-3")));
                continue;
            }
            let candidates = [
                ("PRB-16", msg.value(prb, 16)),
                ("PRB-7", msg.value(prb, 7)),
                ("PRB-2", msg.value(prb, 2)),
            ];
            let Some(date) = self.date(&candidates) else {
                continue;
            };
            for code in codes {
                let mut ev = event(EventKind::Diagnosis, date);
                ev.code = Some(code);
                self.out.push(Item::Event(ev));
            }
        }
    }

    /// OMP-01/02: RDE^O11 order groups (ORC, RXE, TQ1, RXC …).
    fn prescriptions(&mut self) {
        let msg = self.msg;
        let mut groups: Vec<Vec<&Segment>> = Vec::new();
        for seg in &msg.segments {
            let starts = seg.id == "ORC"
                || (seg.id == "RXE"
                    && groups
                        .last()
                        .is_some_and(|g| g.iter().any(|s| s.id == "RXE")));
            if starts || groups.is_empty() {
                groups.push(Vec::new());
            }
            if let Some(g) = groups.last_mut() {
                g.push(seg);
            }
        }
        let mut any_rxe = false;
        for group in groups {
            let find = |id: &str| group.iter().copied().find(|s| s.id == id);
            let Some(rxe) = find("RXE") else { continue };
            any_rxe = true;
            let orc = find("ORC");
            let tq1 = find("TQ1");
            let candidates = [("TQ1-7", self.raw(tq1, 7)), ("ORC-9", self.raw(orc, 9))];
            let Some(date) = self.date(&candidates) else {
                continue;
            };
            let end = self.optional_date("TQ1-8", &self.raw(tq1, 8));
            let mixture: Vec<&Segment> = group.iter().copied().filter(|s| s.id == "RXC").collect();
            let items: Vec<(&Segment, [usize; 3], [&str; 3])> = if mixture.is_empty() {
                vec![(rxe, [2, 3, 5], ["RXE-2", "RXE-3", "RXE-5"])]
            } else {
                mixture
                    .into_iter()
                    .map(|rxc| (rxc, [2, 3, 4], ["RXC-2", "RXC-3", "RXC-4"]))
                    .collect()
            };
            for (seg, [c, a, u], [cn, an, _]) in items {
                self.drug(seg, c, cn, a, an, u, date, end);
            }
        }
        if !any_rxe {
            self.warnings
                .push(self.loc.warning(Ssmix2Error::MissingSegment, Some("RXE")));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn drug(
        &mut self,
        seg: &Segment,
        code_field: usize,
        code_name: &str,
        amount_field: usize,
        amount_name: &str,
        unit_field: usize,
        date: Date,
        end: Option<Date>,
    ) {
        let msg = self.msg;
        let Some(code) = cwe(msg, &first_rep(msg, seg, code_field), 1) else {
            self.warnings
                .push(self.loc.warning(Ssmix2Error::MissingCode, Some(code_name)));
            return;
        };
        let mut ev = event(EventKind::Prescription, date);
        ev.end_date = end;
        ev.code = Some(code);
        ev.value = amount(
            msg.value(seg, amount_field),
            amount_name,
            self.loc,
            self.warnings,
        );
        ev.unit = non_empty(msg.value(seg, unit_field));
        self.out.push(Item::Event(ev));
    }

    /// OMP-11/12: RAS^O17, one prescription event per administered RXA.
    fn administrations(&mut self) {
        let msg = self.msg;
        let rxas: Vec<&Segment> = msg.all("RXA").collect();
        if rxas.is_empty() {
            self.warnings
                .push(self.loc.warning(Ssmix2Error::MissingSegment, Some("RXA")));
        }
        for rxa in rxas {
            if matches!(msg.value(rxa, 20).as_str(), "NA" | "RE") {
                continue;
            }
            let Some(date) = self.date(&[("RXA-3", msg.value(rxa, 3))]) else {
                continue;
            };
            let end = self.optional_date("RXA-4", &msg.value(rxa, 4));
            self.drug(rxa, 5, "RXA-5", 6, "RXA-6", 7, date, end);
        }
    }

    /// OML-11: OUL^R22 results, one lab result per OBX.
    fn results(&mut self) {
        let msg = self.msg;
        let mut spm: Option<&Segment> = None;
        let mut obr: Option<&Segment> = None;
        let mut any_obx = false;
        for seg in &msg.segments {
            match seg.id.as_str() {
                "SPM" => spm = Some(seg),
                "OBR" => obr = Some(seg),
                "OBX" => {
                    any_obx = true;
                    self.result(seg, spm, obr);
                }
                _ => {}
            }
        }
        if !any_obx {
            self.warnings
                .push(self.loc.warning(Ssmix2Error::MissingSegment, Some("OBX")));
        }
    }

    fn result(&mut self, obx: &Segment, spm: Option<&Segment>, obr: Option<&Segment>) {
        let msg = self.msg;
        if msg.value(obx, 11) == "D" {
            return;
        }
        let Some(code) = cwe(msg, &first_rep(msg, obx, 3), 1) else {
            self.warnings
                .push(self.loc.warning(Ssmix2Error::MissingCode, Some("OBX-3")));
            return;
        };
        let candidates = [
            ("OBX-14", msg.value(obx, 14)),
            ("SPM-17", self.raw(spm, 17)),
            ("OBR-7", self.raw(obr, 7)),
        ];
        let Some(date) = self.date(&candidates) else {
            return;
        };
        let mut ev = event(EventKind::LabResult, date);
        ev.code = Some(code);
        ev.value = amount(msg.value(obx, 5), "OBX-5", self.loc, self.warnings);
        ev.unit = non_empty(msg.value(obx, 6));
        self.out.push(Item::Event(ev));
    }
}

/// Folds discharges into the stays they close, in place; returns the events.
pub(crate) fn resolve(items: Vec<Item>) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    let mut discharges = Vec::new();
    for item in items {
        match item {
            Item::Event(e) => events.push(e),
            Item::Discharge {
                admitted,
                discharged,
            } => discharges.push((admitted, discharged)),
        }
    }
    for (admitted, discharged) in discharges {
        let open = events
            .iter_mut()
            .filter(|e| {
                e.kind == EventKind::Encounter(EncounterClass::Inpatient)
                    && e.end_date.is_none()
                    && admitted.map_or(e.date <= discharged, |a| a == e.date)
            })
            .max_by_key(|e| e.date);
        match open {
            Some(stay) => stay.end_date = Some(discharged),
            None => {
                let mut ev = event(
                    EventKind::Encounter(EncounterClass::Inpatient),
                    admitted.unwrap_or(discharged),
                );
                ev.end_date = Some(discharged);
                events.push(ev);
            }
        }
    }
    events
}
