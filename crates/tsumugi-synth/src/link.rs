//! The identity-only output of [`crate::generate_link_records`]: one `records.csv` row per
//! record (provider, patient and batch) with the identity attributes the record carries, and
//! one `truth.csv` row with the person it belongs to and its noise. The rows are written by
//! [`crate::formats::write_record`] in place of the format files, so the records are exactly
//! those [`crate::generate`] writes.

use std::path::Path;

use tsumugi_model::{IdentityAttributes, PersonName};

use crate::error::Result;
use crate::output::CsvOut;

/// Header of `records.csv`.
const RECORDS_HEADER: [&str; 17] = [
    "record_id",
    "source",
    "source_id",
    "source_unique",
    "family_kanji",
    "given_kanji",
    "family_kana",
    "given_kana",
    "birth_date",
    "sex",
    "postal_code",
    "address",
    "municipality_code",
    "insurer_number",
    "insured_symbol",
    "insured_number",
    "insured_branch",
];

/// Header of `truth.csv`.
const TRUTH_HEADER: [&str; 4] = ["record_id", "person_id", "noise", "twin_of"];

/// Separator of the values of a record with several names (a municipality's name history).
const NAME_SEPARATOR: &str = "|";

/// What the truth row of a record says besides its id.
pub(crate) struct RecordTruth<'a> {
    /// The person ([`crate::emit::person_id`]).
    pub person_id: &'a str,
    /// The noise tags of the provider's view of the person as `truth/records.csv` has them so
    /// far; the `notice_*` tags and `old_insurance` are left out of the row (see
    /// `old_insurance`).
    pub tags: &'a [&'static str],
    /// Whether this record's card is an earlier one than the person's current card (the
    /// `old_insurance` tag of this record alone: `tags` may have it from another batch).
    pub old_insurance: bool,
    /// The person id of the twin, empty if none.
    pub twin_of: &'a str,
}

/// The two files of the identity-only output.
pub(crate) struct LinkOut {
    records: CsvOut,
    truth: CsvOut,
}

impl LinkOut {
    /// Creates `records.csv` and `truth.csv` in `dir` (which must exist).
    pub(crate) fn create(dir: &Path) -> Result<LinkOut> {
        Ok(LinkOut {
            records: CsvOut::create(dir, "records.csv", &RECORDS_HEADER)?,
            truth: CsvOut::create(dir, "truth.csv", &TRUTH_HEADER)?,
        })
    }

    /// Writes the rows of one record: `provider`'s record of a patient in `batch`. `unique`
    /// tells whether the provider gives each person one patient id (false where the id is
    /// derived from the insurance card, which changes with it).
    pub(crate) fn write(
        &mut self,
        provider: &str,
        batch: u8,
        unique: bool,
        id: &IdentityAttributes,
        truth: &RecordTruth<'_>,
    ) -> Result<()> {
        let patient = id.patient_id.as_deref().unwrap_or("");
        let record_id = format!("{provider}:{patient}:{batch}");
        let names = &id.names;
        let address = id.addresses.first();
        let insurance = id.insurances.first();
        let birth = id
            .birth_date
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let a = |f: fn(&tsumugi_model::Address) -> Option<&str>| address.and_then(f).unwrap_or("");
        let i =
            |f: fn(&tsumugi_model::Insurance) -> Option<&str>| insurance.and_then(f).unwrap_or("");
        self.records.row([
            record_id.as_str(),
            provider,
            patient,
            if unique { "1" } else { "0" },
            joined(names, |n| n.family_kanji.as_deref()).as_str(),
            joined(names, |n| n.given_kanji.as_deref()).as_str(),
            joined(names, |n| n.family_kana.as_deref()).as_str(),
            joined(names, |n| n.given_kana.as_deref()).as_str(),
            birth.as_str(),
            id.sex.code(),
            a(|x| x.postal_code.as_deref()),
            a(|x| x.text.as_deref()),
            a(|x| x.municipality_code.as_deref()),
            i(|x| x.insurer_number.as_deref()),
            i(|x| x.symbol.as_deref()),
            i(|x| x.number.as_deref()),
            i(|x| x.branch.as_deref()),
        ])?;
        let noise = truth
            .tags
            .iter()
            .copied()
            .filter(|t| !t.starts_with("notice_") && *t != "old_insurance")
            .chain(truth.old_insurance.then_some("old_insurance"))
            .collect::<Vec<_>>()
            .join(";");
        self.truth.row([
            record_id.as_str(),
            truth.person_id,
            noise.as_str(),
            truth.twin_of,
        ])
    }

    /// Flushes both files.
    pub(crate) fn finish(self) -> Result<()> {
        self.records.finish()?;
        self.truth.finish()?;
        Ok(())
    }
}

/// One name column: the values of every name in order, joined with [`NAME_SEPARATOR`] (a
/// missing value is empty).
fn joined(names: &[PersonName], value: fn(&PersonName) -> Option<&str>) -> String {
    let mut out = String::new();
    for (k, n) in names.iter().enumerate() {
        if k > 0 {
            out.push_str(NAME_SEPARATOR);
        }
        out.push_str(value(n).unwrap_or(""));
    }
    out
}
