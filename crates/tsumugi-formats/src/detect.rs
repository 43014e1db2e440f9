//! Which format a submission is in, from its name and first bytes.
//!
//! Providers name files as their systems do, so the content decides where it can: a JSON
//! object is FHIR, an XML `ClinicalDocument` is a 特定健診 CDA, a ZIP holding `ix08`/`DATA/`
//! is a 特定健診 submission, a first line starting with a UKE header record (`IR` for 医科 and
//! DPC, `YK` for 調剤) is a レセ電 claims file, and a folder is SS-MIX2 standardized storage.

/// A submission format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// FHIR R4 / JP Core: NDJSON, a Bundle, or a single resource.
    Fhir,
    /// SS-MIX2 標準化ストレージ (a folder tree, or a ZIP of one).
    Ssmix2,
    /// レセ電 UKE claims (医科, DPC, 調剤).
    Uke,
    /// One 特定健診 CDA document.
    KenshinXml,
    /// A 特定健診 submission ZIP (index, summary, CDA per person, claims).
    KenshinZip,
    /// 介護 claims CSV.
    Kaigo,
    /// CSV described by a TOML mapping.
    MappedCsv,
}

impl Format {
    /// Every format, in a fixed order.
    pub const ALL: [Format; 7] = [
        Format::Fhir,
        Format::Ssmix2,
        Format::Uke,
        Format::KenshinXml,
        Format::KenshinZip,
        Format::Kaigo,
        Format::MappedCsv,
    ];

    /// The name used on the command line (`--format`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Fhir => "fhir",
            Format::Ssmix2 => "ssmix2",
            Format::Uke => "uke",
            Format::KenshinXml => "kenshin-xml",
            Format::KenshinZip => "kenshin-zip",
            Format::Kaigo => "kaigo",
            Format::MappedCsv => "csv",
        }
    }

    /// The inverse of [`Format::as_str`].
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Guesses the format of a file from its name and its first bytes (a few KiB suffice).
/// Returns `None` when nothing matches; CSV files need a mapping, so they are never guessed
/// as [`Format::MappedCsv`].
pub fn sniff(name: &str, head: &[u8]) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    if head.starts_with(b"PK\x03\x04") {
        let text = String::from_utf8_lossy(head);
        if text.contains("ix08") || text.contains("DATA/") || text.contains("su08") {
            return Some(Format::KenshinZip);
        }
        return Some(Format::Ssmix2);
    }
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &body[i..])
        .unwrap_or(&[]);
    if first.starts_with(b"{") || first.starts_with(b"[") {
        return Some(Format::Fhir);
    }
    if first.starts_with(b"<") {
        let text = String::from_utf8_lossy(head);
        if text.contains("ClinicalDocument") {
            return Some(Format::KenshinXml);
        }
        return None;
    }
    let uke_header = [b"IR,".as_slice(), b"YK,"];
    if uke_header.iter().any(|h| first.starts_with(h)) || lower.ends_with(".uke") {
        return Some(Format::Uke);
    }
    if lower.ends_with(".ndjson") || lower.ends_with(".json") {
        return Some(Format::Fhir);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(name: &str, head: &[u8], expect: Option<Format>) {
        assert_eq!(sniff(name, head), expect, "{name}");
    }

    #[test]
    fn sniffs_by_content_first() {
        check(
            "export.dat",
            b"{\"resourceType\":\"Bundle\"}",
            Some(Format::Fhir),
        );
        check(
            "a.ndjson",
            b"\xEF\xBB\xBF  {\"resourceType\"",
            Some(Format::Fhir),
        );
        check(
            "RECEIPTC.UKE",
            b"IR,1,13,1,1234567,,TEST,202304,00,",
            Some(Format::Uke),
        );
        check("claims.txt", b"YK,1,13,4,1234567,", Some(Format::Uke));
        check(
            "h.xml",
            b"<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\">",
            Some(Format::KenshinXml),
        );
        check(
            "sub.zip",
            b"PK\x03\x04....DATA/h1.xml",
            Some(Format::KenshinZip),
        );
        check(
            "store.zip",
            b"PK\x03\x04....999/901/9999013/",
            Some(Format::Ssmix2),
        );
        check("notes.txt", b"hello", None);
        check("municipal.csv", "氏名,生年月日".as_bytes(), None);
    }

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
    }
}
