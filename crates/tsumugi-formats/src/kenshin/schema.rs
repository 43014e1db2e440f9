//! The checked subset of the MHLW 特定健診 XSDs (`hc08_V08.xsd`, `ix08_V08.xsd`).
//!
//! Full XSD validation is not done: the only mature validator for Rust binds libxml2 through C,
//! and the V08 schemas `xs:include` files (`coreschemas/datatypes_hcgv08.xsd`, `voc_hcgv08.xsd`,
//! `co08_V08.xsd`) that submissions and our fixtures do not carry. Instead the rules listed in
//! [`SCHEMA_RULES`] are checked, each taken from the schema text. A violation names the rule's
//! element path in the diagnostic field, never a value.

use crate::kenshin::cda::parse_ts;
use crate::kenshin::tree::Node;

/// The XSD rules that are checked, as `element path: rule (source)`.
pub const SCHEMA_RULES: &[&str] = &[
    "ClinicalDocument: required children typeId, id, effectiveTime, confidentialityCode, recordTarget, author, custodian, component (hc08 POCD_MT000040.ClinicalDocument, minOccurs=1)",
    "ClinicalDocument.typeId: @root fixed 2.16.840.1.113883.1.3 and @extension required (InfrastructureRoot.typeId)",
    "ClinicalDocument.code: @code required; @codeSystem, when present, fixed 1.2.392.200119.6.1001",
    "ClinicalDocument.effectiveTime, patient.birthTime: @value, when present, is an HL7 TS (YYYYMMDD…)",
    "recordTarget.patientRole: at least one id (PatientRole id maxOccurs=unbounded, minOccurs=1)",
    "author: time and assignedAuthor required; assignedAuthor has at least one id",
    "custodian.assignedCustodian.representedCustodianOrganization: required, with at least one id",
    "component.structuredBody: at least one component with a section",
    "documentationOf.serviceEvent.code: @code required; @codeSystem, when present, fixed 1.2.392.200119.6.1002",
    "entry: exactly one observation; observation: @classCode and @moodCode required, code required",
    "index: children interactionType, creationTime, sender, serviceEventType, totalRecordCount required (ix08 Index); sender.id @root and @extension required; totalRecordCount @value required and a non-negative integer",
];

fn require(node: &Node, path: &str, names: &[&str], out: &mut Vec<String>) {
    for n in names {
        if node.child(n).is_none() {
            out.push(format!("{path}.{n}"));
        }
    }
}

fn fixed(node: &Node, attr: &str, value: &str, path: &str, out: &mut Vec<String>) {
    if node.attr(attr).is_some_and(|v| v != value) {
        out.push(format!("{path}@{attr}"));
    }
}

fn ts_ok(node: Option<&Node>, path: &str, out: &mut Vec<String>) {
    if let Some(v) = node.and_then(|n| n.attr("value"))
        && parse_ts(v).is_none()
        && !(v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()))
    {
        out.push(format!("{path}@value"));
    }
}

/// Checks a `ClinicalDocument` against [`SCHEMA_RULES`]; returns the paths that violate.
pub(crate) fn check_cda(doc: &Node) -> Vec<String> {
    let mut out = Vec::new();
    let p = "ClinicalDocument";
    require(
        doc,
        p,
        &[
            "typeId",
            "id",
            "effectiveTime",
            "confidentialityCode",
            "recordTarget",
            "author",
            "custodian",
            "component",
        ],
        &mut out,
    );
    if let Some(t) = doc.child("typeId") {
        if t.attr("root") != Some("2.16.840.1.113883.1.3") {
            out.push(format!("{p}.typeId@root"));
        }
        if t.attr("extension").is_none() {
            out.push(format!("{p}.typeId@extension"));
        }
    }
    if let Some(c) = doc.child("code") {
        if c.attr("code").is_none() {
            out.push(format!("{p}.code@code"));
        }
        fixed(
            c,
            "codeSystem",
            "1.2.392.200119.6.1001",
            "ClinicalDocument.code",
            &mut out,
        );
    }
    ts_ok(
        doc.child("effectiveTime"),
        "ClinicalDocument.effectiveTime",
        &mut out,
    );
    for rt in doc.children_named("recordTarget") {
        match rt.child("patientRole") {
            None => out.push("recordTarget.patientRole".to_owned()),
            Some(role) => {
                if role.child("id").is_none() {
                    out.push("recordTarget.patientRole.id".to_owned());
                }
                ts_ok(
                    role.path(&["patient", "birthTime"]),
                    "patient.birthTime",
                    &mut out,
                );
            }
        }
    }
    for a in doc.children_named("author") {
        require(a, "author", &["time", "assignedAuthor"], &mut out);
        if let Some(aa) = a.child("assignedAuthor")
            && aa.child("id").is_none()
        {
            out.push("author.assignedAuthor.id".to_owned());
        }
    }
    if let Some(c) = doc.child("custodian") {
        match c.path(&["assignedCustodian", "representedCustodianOrganization"]) {
            None => {
                out.push("custodian.assignedCustodian.representedCustodianOrganization".to_owned())
            }
            Some(o) if o.child("id").is_none() => out
                .push("custodian.assignedCustodian.representedCustodianOrganization.id".to_owned()),
            Some(_) => {}
        }
    }
    for d in doc.children_named("documentationOf") {
        match d.child("serviceEvent") {
            None => out.push("documentationOf.serviceEvent".to_owned()),
            Some(se) => {
                if let Some(c) = se.child("code") {
                    if c.attr("code").is_none() {
                        out.push("documentationOf.serviceEvent.code@code".to_owned());
                    }
                    fixed(
                        c,
                        "codeSystem",
                        "1.2.392.200119.6.1002",
                        "documentationOf.serviceEvent.code",
                        &mut out,
                    );
                }
            }
        }
    }
    if let Some(comp) = doc.child("component") {
        match comp.child("structuredBody") {
            None => out.push("component.structuredBody".to_owned()),
            Some(body) => {
                let mut n_sections = 0;
                for c in body.children_named("component") {
                    let Some(section) = c.child("section") else {
                        out.push("structuredBody.component.section".to_owned());
                        continue;
                    };
                    n_sections += 1;
                    for e in section.children_named("entry") {
                        let mut obs = e.children_named("observation");
                        match (obs.next(), obs.next()) {
                            (Some(o), None) => check_observation(o, &mut out),
                            _ => out.push("section.entry.observation".to_owned()),
                        }
                    }
                }
                if n_sections == 0 {
                    out.push("structuredBody.component".to_owned());
                }
            }
        }
    }
    out
}

fn check_observation(o: &Node, out: &mut Vec<String>) {
    for a in ["classCode", "moodCode"] {
        if o.attr(a).is_none() {
            out.push(format!("observation@{a}"));
        }
    }
    if o.child("code").is_none() {
        out.push("observation.code".to_owned());
    }
    for rel in o.children_named("entryRelationship") {
        if rel.attr("typeCode").is_none() {
            out.push("entryRelationship@typeCode".to_owned());
        }
        for inner in rel.children_named("observation") {
            check_observation(inner, out);
        }
    }
}

/// Checks an ix08 `index` document against [`SCHEMA_RULES`]; returns the paths that violate.
pub(crate) fn check_index(index: &Node) -> Vec<String> {
    let mut out = Vec::new();
    require(
        index,
        "index",
        &[
            "interactionType",
            "creationTime",
            "sender",
            "serviceEventType",
            "totalRecordCount",
        ],
        &mut out,
    );
    if let Some(id) = index.path(&["sender", "id"]) {
        for a in ["root", "extension"] {
            if id.attr(a).is_none() {
                out.push(format!("index.sender.id@{a}"));
            }
        }
    } else if index.child("sender").is_some() {
        out.push("index.sender.id".to_owned());
    }
    if let Some(t) = index.child("totalRecordCount")
        && t.attr("value")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_none()
    {
        out.push("index.totalRecordCount@value".to_owned());
    }
    out
}
