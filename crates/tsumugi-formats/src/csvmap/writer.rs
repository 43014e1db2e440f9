//! Writing records in a mapping's layout: the inverse of [`crate::csvmap::MappedCsvReader`].
//!
//! Rows are laid out from the mapping alone: a column named `#N` sits at position N, and named
//! columns follow in the order the mapping first names them (identity columns, then each event
//! entry's date, code, value and unit columns). An event goes to the first `[[events]]` entry
//! that matches its kind and code ([`fits`]); a row holds one event per entry. Entries that share
//! a date column (a wide row: 身長 and 体重 of one visit) are written only together, with the
//! same date: a row with one of them alone would read back with a phantom event for the other.
//! What cannot be written that way is returned, never dropped, so a caller can send it in
//! another format.

use tsumugi_model::{Event, EventKind, IdentityAttributes, Sex, SourceRecord};

use crate::csvmap::mapping::{CsvEncoding, EventColumns, Mapping};

/// The bytes of a mapped CSV and the events its layout cannot carry.
#[derive(Debug, Default)]
pub struct Written {
    /// The file (header line first when the mapping has one), in the mapping's encoding.
    pub bytes: Vec<u8>,
    /// Events of the records that no row could carry, in record order.
    pub rest: Vec<Event>,
}

/// The columns of a mapping's rows, by name.
fn columns(m: &Mapping) -> Vec<String> {
    let id = &m.identity;
    let mut names: Vec<&String> = [
        &id.patient_id,
        &id.family_kanji,
        &id.given_kanji,
        &id.family_kana,
        &id.given_kana,
        &id.birth_date,
        &id.sex,
        &id.postal_code,
        &id.address,
        &id.municipality_code,
    ]
    .into_iter()
    .flatten()
    .collect();
    for e in &m.events {
        names.push(&e.date);
        names.extend([&e.code, &e.value, &e.unit_column].into_iter().flatten());
    }
    let mut out: Vec<String> = Vec::new();
    let positional = |n: &str| n.strip_prefix('#').and_then(|p| p.parse::<usize>().ok());
    let width = names
        .iter()
        .filter_map(|n| positional(n))
        .max()
        .unwrap_or(0);
    out.resize(width, String::new());
    for n in names {
        match positional(n) {
            Some(p) => {
                if let Some(slot) = out.get_mut(p.saturating_sub(1)) {
                    n.clone_into(slot);
                }
            }
            None if !out.contains(n) => out.push(n.clone()),
            None => {}
        }
    }
    out
}

/// Whether `e` is what entry `ec` reads back: same kind, and the fixed code, or a code of the
/// entry's system, or no code when the entry has none.
pub(crate) fn fits(ec: &EventColumns, e: &Event) -> bool {
    if EventKind::parse(&ec.kind) != Some(e.kind) {
        return false;
    }
    let system = Mapping::code_system(ec);
    let code_ok = match (&e.code, &ec.fixed_code, &ec.code) {
        (Some(c), Some(fixed), _) => &c.value == fixed && Some(&c.system) == system.as_ref(),
        (Some(c), None, Some(_)) => Some(&c.system) == system.as_ref(),
        (None, None, None) => true,
        _ => false,
    };
    let clean =
        |s: &str| !s.is_empty() && s.trim() == s && !s.contains(['"', '\r', '\n', ',', '\t']);
    let code_ok =
        code_ok && (ec.fixed_code.is_some() || e.code.as_ref().is_none_or(|c| clean(&c.value)));
    let value_ok = match (e.value, &ec.value) {
        (Some(v), Some(_)) => v.is_finite(),
        (None, _) => true,
        (Some(_), None) => false,
    };
    // The reader gives a unit only with a value: the unit cell's, else the entry's fixed one.
    let unit_ok = match (e.value, &e.unit, &ec.unit_column) {
        (None, u, _) => u.is_none(),
        (Some(_), Some(u), Some(_)) => clean(u),
        (Some(_), u, _) => u.as_ref() == ec.unit.as_ref(),
    };
    code_ok && value_ok && unit_ok && e.end_date.is_none()
}

/// A cell: trimmed, without the delimiter, quotes or line ends (the reader trims cells, and the
/// exports this mimics do not quote).
fn cell(s: &str, delimiter: char) -> String {
    s.trim()
        .chars()
        .filter(|c| *c != delimiter && !matches!(c, '"' | '\r' | '\n'))
        .collect()
}

/// Writes `records` in `mapping`'s layout (see the module docs). Dates are written in the
/// mapping's first date format (和暦 in kanji for `wareki`); sex as the first code of each sex.
pub fn write_mapped_csv(mapping: &Mapping, records: &[SourceRecord]) -> Written {
    let cols = columns(mapping);
    let delimiter = mapping.delimiter.chars().next().unwrap_or(',');
    let mut text = String::new();
    if mapping.header {
        text.push_str(&cols.join(&mapping.delimiter));
        text.push_str("\r\n");
    }
    let mut rest = Vec::new();
    for record in records {
        let ident = identity_cells(mapping, &record.identity, delimiter);
        for row in rows(mapping, &record.events, &mut rest) {
            let mut cells = vec![String::new(); cols.len()];
            let mut put = |name: &Option<String>, value: String| {
                if let Some(slot) = name
                    .as_ref()
                    .and_then(|n| cols.iter().position(|c| c == n))
                    .and_then(|i| cells.get_mut(i))
                {
                    *slot = value;
                }
            };
            for (name, value) in &ident {
                put(name, value.clone());
            }
            for (ec, e) in mapping.events.iter().zip(&row) {
                let Some(e) = e else { continue };
                put(&Some(ec.date.clone()), date_text(mapping, e.date));
                if ec.fixed_code.is_none() {
                    let code = e.code.as_ref().map(|c| cell(&c.value, delimiter));
                    put(&ec.code, code.unwrap_or_default());
                }
                put(
                    &ec.value,
                    e.value.map(|v| v.to_string()).unwrap_or_default(),
                );
                if let Some(u) = &e.unit {
                    put(&ec.unit_column, cell(u, delimiter));
                }
            }
            text.push_str(&cells.join(&mapping.delimiter));
            text.push_str("\r\n");
        }
    }
    let bytes = match mapping.encoding {
        CsvEncoding::Utf8 => text.into_bytes(),
        CsvEncoding::Cp932 => cp932(&text),
    };
    Written { bytes, rest }
}

/// `text` in CP932; a character CP932 lacks becomes 〓, as municipal systems write 外字.
fn cp932(text: &str) -> Vec<u8> {
    let sjis = encoding_rs::SHIFT_JIS;
    let (bytes, _, lossy) = sjis.encode(text);
    if !lossy {
        return bytes.into_owned();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let (b, _, lossy) = sjis.encode(c.encode_utf8(&mut buf));
        let b = if lossy { sjis.encode("〓").0 } else { b };
        out.extend_from_slice(&b);
    }
    out
}

fn date_text(m: &Mapping, d: tsumugi_model::Date) -> String {
    match m.date_formats.first().map(String::as_str) {
        Some("wareki") | None => {
            tsumugi_model::wareki::to_kanji(d).unwrap_or_else(|| d.to_string())
        }
        Some(f) => d.format(f).to_string(),
    }
}

fn identity_cells(
    m: &Mapping,
    id: &IdentityAttributes,
    delimiter: char,
) -> Vec<(Option<String>, String)> {
    let c = |s: Option<&str>| cell(s.unwrap_or(""), delimiter);
    let name = id.names.first();
    let addr = id.addresses.first();
    let sex = match (id.sex, &m.sex_codes) {
        (Sex::Male, Some(codes)) => codes.male.first().cloned().unwrap_or_default(),
        (Sex::Female, Some(codes)) => codes.female.first().cloned().unwrap_or_default(),
        (Sex::Male, None) => "1".to_owned(),
        (Sex::Female, None) => "2".to_owned(),
        (Sex::Unknown, _) => String::new(),
    };
    let i = &m.identity;
    vec![
        (i.patient_id.clone(), c(id.patient_id.as_deref())),
        (
            i.family_kanji.clone(),
            c(name.and_then(|n| n.family_kanji.as_deref())),
        ),
        (
            i.given_kanji.clone(),
            c(name.and_then(|n| n.given_kanji.as_deref())),
        ),
        (
            i.family_kana.clone(),
            c(name.and_then(|n| n.family_kana.as_deref())),
        ),
        (
            i.given_kana.clone(),
            c(name.and_then(|n| n.given_kana.as_deref())),
        ),
        (
            i.birth_date.clone(),
            id.birth_date.map(|d| date_text(m, d)).unwrap_or_default(),
        ),
        (i.sex.clone(), sex),
        (
            i.postal_code.clone(),
            c(addr.and_then(|a| a.postal_code.as_deref())),
        ),
        (i.address.clone(), c(addr.and_then(|a| a.text.as_deref()))),
        (
            i.municipality_code.clone(),
            c(addr.and_then(|a| a.municipality_code.as_deref())),
        ),
    ]
}

/// The rows of one record: one slot per `[[events]]` entry. Events no entry fits, and those of
/// a shared-date group left incomplete, go to `rest`.
fn rows<'e>(
    m: &Mapping,
    events: &'e [Event],
    rest: &mut Vec<Event>,
) -> Vec<Vec<Option<&'e Event>>> {
    let n = m.events.len();
    let mut rows: Vec<Vec<Option<&Event>>> = Vec::new();
    for e in events {
        let Some(slot) = m.events.iter().position(|ec| fits(ec, e)) else {
            rest.push(e.clone());
            continue;
        };
        let date_col = &m.events[slot].date;
        let joins = |row: &Vec<Option<&Event>>| {
            row[slot].is_none()
                && m.events.iter().zip(row).all(|(ec, other)| {
                    &ec.date != date_col || other.is_none_or(|o| o.date == e.date)
                })
        };
        match rows.iter_mut().find(|r| joins(r)) {
            Some(row) => row[slot] = Some(e),
            None => {
                let mut row = vec![None; n];
                row[slot] = Some(e);
                rows.push(row);
            }
        }
    }
    rows.retain(|row| {
        let complete = m.events.iter().zip(row).all(|(ec, e)| {
            e.is_some()
                || m.events
                    .iter()
                    .zip(row)
                    .all(|(other, o)| other.date != ec.date || o.is_none())
        });
        if !complete {
            rest.extend(row.iter().flatten().map(|e| (*e).clone()));
        }
        complete
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_and_named_columns() {
        let m = Mapping::from_toml(include_str!("../../mappings/juminhyo_shibou.toml"))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            columns(&m),
            (1..=9).map(|i| format!("#{i}")).collect::<Vec<_>>()
        );
        let m = Mapping::from_toml(include_str!("../../mappings/nyuyouji_kenshin.toml"))
            .unwrap_or_else(|e| unreachable!("{e}"));
        let cols = columns(&m);
        assert_eq!(
            cols.iter().filter(|c| *c == "健診日").count(),
            1,
            "{cols:?}"
        );
        assert!(cols.contains(&"身長".to_owned()) && cols.contains(&"体重".to_owned()));
    }
}
