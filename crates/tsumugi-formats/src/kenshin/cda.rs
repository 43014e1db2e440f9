//! One person's 特定健診 CDA document: the reader ([`read_cda`]) and the writer ([`write_cda`]).
//!
//! Mapping (header, per the MHLW hc08 template):
//!
//! | CDA | model |
//! |---|---|
//! | `recordTarget/patientRole/id[@root=1.2.392.200119.6.101]/@extension` | `Insurance.insurer_number` |
//! | `…/id[@root=…6.204]` / `…6.205` / `…6.211` | `symbol` / `number` / `branch` |
//! | those four ids, folded and joined ([`patient_id`]) | `patient_id` |
//! | `patientRole/addr` text, `addr/postalCode` | `Address.text`, `postal_code` |
//! | `patient/name` (カナ氏名, "family given") | `PersonName.family_kana`, `given_kana` |
//! | `patient/administrativeGenderCode/@code` (OID …6.1104: 1 男, 2 女) | `sex` |
//! | `patient/birthTime/@value` (`YYYYMMDD`) | `birth_date` |
//!
//! Each `observation` whose `code/@code` is a 17-character item code (code system
//! `1.2.392.200119.6.1005`, the XSD default) and that has a result becomes one
//! [`EventKind::Checkup`] with [`CodeSystem::KenshinItem`]: `PQ` → `value` and `unit`;
//! `CD`/`CO`/`INT` with a numeric code → `value` without unit (result codes of the MHLW tables are
//! small integers); `ST`/`ED` free text is ignored with a warning. The date is the observation's
//! own `effectiveTime`, else the 実施日 (`documentationOf/serviceEvent/effectiveTime`), else the
//! document `effectiveTime`. Observations without a result (grouping entries) are skipped.
//!
//! # Patient id
//!
//! The hc08 header has no 受診者 number of the checkup centre: `patientRole` holds only the
//! insurance ids (the 受診券 number under `participant` is reissued every year). The provider's
//! patient id is therefore derived from the card: [`patient_id`] gives
//! `保険者番号:記号:番号:枝番`, each part with full-width ASCII folded and spaces dropped, an
//! absent 記号 or 枝番 empty. It is stable for one card; a new card (another insurer) is a new
//! id, as it is for the checkup centre. Documents before the 2021 枝番 have none, so dependants
//! on one card then share an id.

use std::fmt::Write as _;

use tsumugi_model::{
    Address, Code, CodeSystem, Date, Diagnostic, Event, EventKind, IdentityAttributes, Insurance,
    PersonName, Sex, SourceRecord, wareki,
};

use crate::RecordOutcome;
use crate::diag::Where;
use crate::kenshin::error::KenshinError;
use crate::kenshin::schema;
use crate::kenshin::tree::{self, Node};

/// OID of 保険者番号.
pub const OID_INSURER: &str = "1.2.392.200119.6.101";
/// OID of 被保険者証等記号.
pub const OID_SYMBOL: &str = "1.2.392.200119.6.204";
/// OID of 被保険者証等番号.
pub const OID_NUMBER: &str = "1.2.392.200119.6.205";
/// OID of 被保険者証等番号枝番.
pub const OID_BRANCH: &str = "1.2.392.200119.6.211";
/// OID of the 特定健診 item-code system (the default of `observation/code/@codeSystem`).
pub const OID_ITEM_CODE: &str = "1.2.392.200119.6.1005";
/// OID of the sex code system (1 男, 2 女).
pub const OID_SEX: &str = "1.2.392.200119.6.1104";

/// The provider patient id of a 受診者, derived from the card (see the module docs):
/// `保険者番号:記号:番号:枝番`; `None` without 保険者番号 or 番号.
///
/// ```
/// use tsumugi_formats::kenshin::patient_id;
/// use tsumugi_model::Insurance;
/// let card = Insurance {
///     insurer_number: Some("06139995".into()),
///     symbol: Some("ｹﾝｼﾝ１".into()),
///     number: Some("1234567".into()),
///     branch: Some("01".into()),
/// };
/// assert_eq!(patient_id(&card).as_deref(), Some("06139995:ｹﾝｼﾝ1:1234567:01"));
/// ```
pub fn patient_id(ins: &Insurance) -> Option<String> {
    crate::ident::join(&[
        (ins.insurer_number.as_deref(), true),
        (ins.symbol.as_deref(), false),
        (ins.number.as_deref(), true),
        (ins.branch.as_deref(), false),
    ])
}

/// How [`read_cda_with`] reads a document. There is no default: callers say whether the XSD
/// subset is checked.
#[derive(Debug, Clone)]
pub struct CdaConfig {
    /// Check the document against the XSD rules of [`crate::kenshin::SCHEMA_RULES`]; a violation
    /// rejects the record.
    pub check_schema: bool,
}

/// Whether `s` is a 17-character item code (ASCII digits and upper-case letters).
pub fn is_item_code(s: &str) -> bool {
    s.len() == 17
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// Reads one CDA document (one person) without the schema check; see [`read_cda_with`].
///
/// ```
/// use tsumugi_formats::kenshin::read_cda;
/// let out = read_cda("h1.xml", b"<ClinicalDocument/>");
/// assert_eq!(out.result.unwrap_err().code, "KNS0004NoPatient");
/// ```
pub fn read_cda(file_label: &str, xml: &[u8]) -> RecordOutcome {
    read_cda_with(
        file_label,
        xml,
        &CdaConfig {
            check_schema: false,
        },
    )
}

/// Reads one CDA document (one person) as record 1 of `file_label`.
pub fn read_cda_with(file_label: &str, xml: &[u8], config: &CdaConfig) -> RecordOutcome {
    let at = Where {
        file: file_label,
        record: 1,
        line: Some(1),
    };
    let mut warnings = Vec::new();
    let result = decode(&at, xml, config, &mut warnings)
        .map_err(|(err, field)| at.diag(err, field.as_deref()));
    RecordOutcome {
        record: 1,
        line: Some(1),
        result,
        warnings,
    }
}

fn decode(
    at: &Where<'_>,
    xml: &[u8],
    config: &CdaConfig,
    warnings: &mut Vec<Diagnostic>,
) -> Result<SourceRecord, (KenshinError, Option<String>)> {
    let text = std::str::from_utf8(xml).map_err(|_| (KenshinError::InvalidUtf8, None))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = tree::parse(text).map_err(|_| (KenshinError::MalformedXml, None))?;
    if root.name != "ClinicalDocument" {
        return Err((KenshinError::NotClinicalDocument, None));
    }
    if config.check_schema {
        let mut violations = schema::check_cda(&root).into_iter();
        if let Some(first) = violations.next() {
            warnings.extend(violations.map(|f| at.diag(KenshinError::SchemaViolation, Some(&f))));
            return Err((KenshinError::SchemaViolation, Some(first)));
        }
    }
    let role = root.path(&["recordTarget", "patientRole"]).ok_or((
        KenshinError::NoPatient,
        Some("recordTarget.patientRole".to_owned()),
    ))?;
    let identity = identity(at, role, warnings);

    let doc_date = date_attr(at, root.child("effectiveTime"), "effectiveTime", warnings);
    let service_date = root
        .path(&["documentationOf", "serviceEvent", "effectiveTime"])
        .and_then(|n| {
            ivl_date(
                at,
                n,
                "documentationOf.serviceEvent.effectiveTime",
                warnings,
            )
        });
    let default_date = service_date.or(doc_date);

    let mut events = Vec::new();
    if let Some(body) = root.path(&["component", "structuredBody"]) {
        for comp in body.children_named("component") {
            let Some(section) = comp.child("section") else {
                continue;
            };
            for entry in section.children_named("entry") {
                for obs in entry.children_named("observation") {
                    observation(at, obs, default_date, &mut events, warnings, 0);
                }
            }
        }
    }
    Ok(SourceRecord { identity, events })
}

fn identity(at: &Where<'_>, role: &Node, warnings: &mut Vec<Diagnostic>) -> IdentityAttributes {
    let mut ins = Insurance::default();
    for id in role.children_named("id") {
        let ext = id
            .attr("extension")
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let Some(ext) = ext else { continue };
        match id.attr("root") {
            Some(OID_INSURER) => ins.insurer_number = Some(ext.to_owned()),
            Some(OID_SYMBOL) => ins.symbol = Some(ext.to_owned()),
            Some(OID_NUMBER) => ins.number = Some(ext.to_owned()),
            Some(OID_BRANCH) => ins.branch = Some(ext.to_owned()),
            _ => {}
        }
    }
    let mut attrs = IdentityAttributes::default();
    if ins != Insurance::default() {
        attrs.patient_id = patient_id(&ins);
        attrs.insurances.push(ins);
    }
    if let Some(addr) = role.child("addr") {
        let postal = addr
            .child("postalCode")
            .map(Node::deep_text)
            .filter(|s| !s.is_empty());
        let text = addr.text.trim();
        let a = Address {
            postal_code: postal,
            text: (!text.is_empty()).then(|| text.to_owned()),
            municipality_code: None,
        };
        if a != Address::default() {
            attrs.addresses.push(a);
        }
    }
    if let Some(patient) = role.child("patient") {
        if let Some(name) = patient.child("name").map(Node::deep_text) {
            let mut parts = name.splitn(2, [' ', '\u{3000}']);
            let family = parts.next().map(str::trim).filter(|s| !s.is_empty());
            let given = parts.next().map(str::trim).filter(|s| !s.is_empty());
            if family.is_some() || given.is_some() {
                attrs.names.push(PersonName {
                    family_kana: family.map(str::to_owned),
                    given_kana: given.map(str::to_owned),
                    ..PersonName::default()
                });
            }
        }
        if let Some(g) = patient.child("administrativeGenderCode") {
            attrs.sex = match g.attr("code") {
                Some("1") => Sex::Male,
                Some("2") => Sex::Female,
                _ => {
                    warnings.push(at.diag(
                        KenshinError::UnmappedSex,
                        Some("patient.administrativeGenderCode"),
                    ));
                    Sex::Unknown
                }
            };
        }
        attrs.birth_date = date_attr(
            at,
            patient.child("birthTime"),
            "patient.birthTime",
            warnings,
        );
    }
    attrs
}

/// Parses an HL7 TS (`YYYYMMDD[hhmm[ss]]…`) or any 和暦/western spelling to its calendar date.
pub(crate) fn parse_ts(s: &str) -> Option<Date> {
    let s = s.trim();
    if s.len() >= 8 && s.is_char_boundary(8) {
        let (day, rest) = s.split_at(8);
        if day.bytes().all(|b| b.is_ascii_digit())
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-.".contains(&b))
        {
            return Date::parse_from_str(day, "%Y%m%d").ok();
        }
    }
    wareki::parse_date(s).ok()
}

fn date_attr(
    at: &Where<'_>,
    node: Option<&Node>,
    field: &str,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Date> {
    let v = node?.attr("value")?;
    let d = parse_ts(v);
    if d.is_none() {
        warnings.push(at.diag(KenshinError::InvalidDate, Some(field)));
    }
    d
}

/// An IVL_TS: `@value`, else `low/@value`.
fn ivl_date(
    at: &Where<'_>,
    node: &Node,
    field: &str,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Date> {
    if node.attr("value").is_some() {
        return date_attr(at, Some(node), field, warnings);
    }
    date_attr(at, node.child("low"), field, warnings)
}

fn observation(
    at: &Where<'_>,
    obs: &Node,
    default_date: Option<Date>,
    events: &mut Vec<Event>,
    warnings: &mut Vec<Diagnostic>,
    depth: usize,
) {
    // Nested observations (entryRelationship) first keep source order within the group.
    let code = obs
        .child("code")
        .and_then(|c| c.attr("code"))
        .map(str::trim);
    if let Some(value) = obs.child("value") {
        match code {
            Some(code) if is_item_code(code) => {
                let date = obs
                    .child("effectiveTime")
                    .and_then(|n| ivl_date(at, n, "observation.effectiveTime", warnings))
                    .or(default_date);
                if let Some(ev) = result(at, code, value, date, warnings) {
                    events.push(ev);
                }
            }
            _ => warnings.push(at.diag(KenshinError::InvalidItemCode, Some("observation.code"))),
        }
    } else if let Some(code) = code
        && !code.is_empty()
        && !is_item_code(code)
    {
        warnings.push(at.diag(KenshinError::InvalidItemCode, Some("observation.code")));
    }
    if depth < tree::MAX_DEPTH {
        for rel in obs.children_named("entryRelationship") {
            for inner in rel.children_named("observation") {
                observation(at, inner, default_date, events, warnings, depth + 1);
            }
        }
    }
}

fn result(
    at: &Where<'_>,
    code: &str,
    value: &Node,
    date: Option<Date>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Event> {
    if value.attr("nullFlavor").is_some() {
        return None;
    }
    let ty = value.attr("type").unwrap_or("PQ");
    let (number, unit) = match ty {
        "PQ" | "INT" | "REAL" => {
            let v = value.attr("value").map(str::trim);
            let unit = value
                .attr("unit")
                .map(str::trim)
                .filter(|u| !u.is_empty() && *u != "1");
            (v, unit)
        }
        "CD" | "CO" | "CE" | "CS" => (value.attr("code").map(str::trim), None),
        _ => {
            warnings.push(at.diag(KenshinError::FreeTextIgnored, Some("observation.value")));
            return None;
        }
    };
    let Some(number) = number
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite())
    else {
        warnings.push(at.diag(KenshinError::InvalidValue, Some("observation.value")));
        return None;
    };
    let Some(date) = date else {
        warnings.push(at.diag(KenshinError::MissingDate, Some("observation.effectiveTime")));
        return None;
    };
    Some(Event {
        kind: EventKind::Checkup,
        date,
        end_date: None,
        code: Some(Code::new(CodeSystem::KenshinItem, code)),
        value: Some(number),
        unit: unit.map(str::to_owned),
    })
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

fn ts(d: Date) -> String {
    d.format("%Y%m%d").to_string()
}

/// Writes `record` as a 特定健診 CDA document in the shape of the hc08 template.
///
/// The patient id is not written (the format has none; the reader derives it from the
/// insurance, [`patient_id`]). Written: the first insurance (insurer, symbol, number, branch), the first address, the first
/// name's kana ("family given"), sex, birth date, and every [`EventKind::Checkup`] event with a
/// [`CodeSystem::KenshinItem`] code and a value (one `PQ` observation each, with its own
/// `effectiveTime`). Other events are not part of this format and are left out. The document and
/// 実施日 date is the first written event's date.
pub fn write_cda(record: &SourceRecord) -> Vec<u8> {
    let events: Vec<&Event> = record
        .events
        .iter()
        .filter(|e| {
            e.kind == EventKind::Checkup
                && e.value.is_some_and(f64::is_finite)
                && e.code
                    .as_ref()
                    .is_some_and(|c| c.system == CodeSystem::KenshinItem)
        })
        .collect();
    let doc_date = events.first().map(|e| ts(e.date));
    let id = &record.identity;
    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str("<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n");
    s.push_str("<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>\n<id nullFlavor=\"NI\"/>\n");
    s.push_str("<code code=\"10\" codeSystem=\"1.2.392.200119.6.1001\"/>\n");
    match &doc_date {
        Some(d) => {
            let _ = writeln!(s, "<effectiveTime value=\"{d}\"/>");
        }
        None => s.push_str("<effectiveTime nullFlavor=\"NI\"/>\n"),
    }
    s.push_str("<confidentialityCode code=\"N\"/>\n<recordTarget><patientRole>\n");
    if let Some(ins) = id.insurances.first() {
        for (oid, v) in [
            (OID_INSURER, &ins.insurer_number),
            (OID_SYMBOL, &ins.symbol),
            (OID_NUMBER, &ins.number),
            (OID_BRANCH, &ins.branch),
        ] {
            if let Some(v) = v {
                let _ = writeln!(s, "<id extension=\"{}\" root=\"{oid}\"/>", esc(v));
            }
        }
    }
    if id
        .insurances
        .first()
        .is_none_or(|i| *i == Insurance::default())
    {
        s.push_str("<id nullFlavor=\"NI\"/>\n");
    }
    if let Some(a) = id.addresses.first() {
        s.push_str("<addr>");
        if let Some(p) = &a.postal_code {
            let _ = write!(s, "<postalCode>{}</postalCode>", esc(p));
        }
        if let Some(t) = &a.text {
            s.push_str(&esc(t));
        }
        s.push_str("</addr>\n");
    }
    s.push_str("<patient>\n");
    if let Some(n) = id.names.first() {
        let name = [&n.family_kana, &n.given_kana]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            let _ = writeln!(s, "<name>{}</name>", esc(&name));
        }
    }
    let sex = match id.sex {
        Sex::Male => Some("1"),
        Sex::Female => Some("2"),
        Sex::Unknown => None,
    };
    if let Some(c) = sex {
        let _ = writeln!(
            s,
            "<administrativeGenderCode code=\"{c}\" codeSystem=\"{OID_SEX}\"/>"
        );
    }
    if let Some(b) = id.birth_date {
        let _ = writeln!(s, "<birthTime value=\"{}\"/>", ts(b));
    }
    s.push_str("</patient>\n</patientRole></recordTarget>\n");
    s.push_str("<author><time nullFlavor=\"NI\"/><assignedAuthor><id nullFlavor=\"NI\"/></assignedAuthor></author>\n");
    s.push_str("<custodian><assignedCustodian><representedCustodianOrganization><id nullFlavor=\"NI\"/></representedCustodianOrganization></assignedCustodian></custodian>\n");
    if let Some(d) = &doc_date {
        let _ = writeln!(
            s,
            "<documentationOf><serviceEvent><code code=\"1\" codeSystem=\"1.2.392.200119.6.1002\"/><effectiveTime value=\"{d}\"/></serviceEvent></documentationOf>"
        );
    }
    s.push_str("<component><structuredBody><component><section>\n");
    s.push_str("<code code=\"01010\" codeSystem=\"1.2.392.200119.6.1010\"/>\n");
    for e in events {
        let (Some(code), Some(v)) = (&e.code, e.value) else {
            continue;
        };
        let _ = write!(
            s,
            "<entry><observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"{}\" codeSystem=\"{OID_ITEM_CODE}\"/><effectiveTime value=\"{}\"/><value xsi:type=\"PQ\" value=\"{v}\"",
            esc(&code.value),
            ts(e.date)
        );
        if let Some(u) = &e.unit {
            let _ = write!(s, " unit=\"{}\"", esc(u));
        }
        s.push_str("/></observation></entry>\n");
    }
    s.push_str("</section></component></structuredBody></component>\n</ClinicalDocument>\n");
    s.into_bytes()
}
