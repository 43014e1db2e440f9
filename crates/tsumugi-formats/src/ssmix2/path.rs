//! SS-MIX2 storage paths: `root/PID[0:3]/PID[3:6]/PID/date|-/kind/file`, with the file name
//! `PID_date_kind_order_timestamp_dept_flag`, and the latest-file-wins selection.

use std::collections::BTreeMap;

use crate::ssmix2::error::Ssmix2Error;

/// What a file name says about its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileMeta {
    pub(crate) pid: String,
    /// `YYYYMMDD` or `-` (data without a clinical date, e.g. ADT-00, PPR-01).
    pub(crate) date: String,
    /// e.g. `ADT-00`, `OMP-01`.
    pub(crate) kind: String,
    pub(crate) order: String,
    /// The timestamp right-padded with zeros to 17 digits (`yyyyMMddHHmmssfff`).
    pub(crate) timestamp: String,
    /// `true` for flag `1` (valid), `false` for `0` (deleted).
    pub(crate) valid: bool,
}

/// The patient a path belongs to, even when its name is malformed (so that the warning reaches
/// that patient's outcome): the first `_` part of the file name, else the PID directory.
pub(crate) fn patient_key(rel: &str) -> String {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let name = parts.last().copied().unwrap_or("");
    match name.split_once('_') {
        Some((pid, _)) if !pid.is_empty() => pid.to_owned(),
        _ => parts
            .len()
            .checked_sub(4)
            .and_then(|i| parts.get(i))
            .map_or_else(String::new, |p| (*p).to_owned()),
    }
}

/// Parses the file name of `rel` and checks it against the directories above it (as many of
/// `PID[0:3]/PID[3:6]/PID/date/kind` as the path has).
pub(crate) fn parse(rel: &str) -> Result<FileMeta, Ssmix2Error> {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let Some((name, dirs)) = parts.split_last() else {
        return Err(Ssmix2Error::MalformedFileName);
    };
    let fields: Vec<&str> = name.split('_').collect();
    let [pid, date, kind, order, timestamp, dept, flag] = fields[..] else {
        return Err(Ssmix2Error::MalformedFileName);
    };
    let date_ok = date == "-" || (date.len() == 8 && all_digits(date));
    let kind_ok = kind.len() == 6
        && kind
            .get(..3)
            .is_some_and(|k| k.chars().all(|c| c.is_ascii_uppercase()))
        && kind.get(3..4) == Some("-")
        && kind.get(4..).is_some_and(all_digits);
    let ts_ok = (8..=17).contains(&timestamp.len()) && all_digits(timestamp);
    let valid = match flag {
        "1" => true,
        "0" => false,
        _ => return Err(Ssmix2Error::MalformedFileName),
    };
    if pid.is_empty() || !date_ok || !kind_ok || order.is_empty() || !ts_ok || dept.is_empty() {
        return Err(Ssmix2Error::MalformedFileName);
    }
    let pid_chars: Vec<char> = pid.chars().collect();
    let prefix = |from: usize, to: usize| -> String {
        pid_chars
            .get(from..to.min(pid_chars.len()))
            .map_or_else(String::new, |s| s.iter().collect())
    };
    let expected = [
        prefix(0, 3),
        prefix(3, 6),
        pid.to_owned(),
        date.to_owned(),
        kind.to_owned(),
    ];
    // Compare from the file upwards, over as many levels as the path has.
    let matches = dirs
        .iter()
        .rev()
        .zip(expected.iter().rev())
        .all(|(got, want)| got == want);
    if !matches {
        return Err(Ssmix2Error::PathMismatch);
    }
    Ok(FileMeta {
        pid: pid.to_owned(),
        date: date.to_owned(),
        kind: kind.to_owned(),
        order: order.to_owned(),
        timestamp: format!("{timestamp:0<17}"),
        valid,
    })
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Applies "the latest file wins" per (date, kind, order): returns the indices of the files
/// that survive, in input order. A winner with the deleted flag removes its order. Ties on the
/// timestamp go to the later path (the input is sorted by path), so the choice is stable.
pub(crate) fn select_latest(metas: &[(usize, FileMeta)]) -> Vec<usize> {
    let mut best: BTreeMap<(&str, &str, &str), (usize, &FileMeta)> = BTreeMap::new();
    for (idx, meta) in metas {
        let key = (meta.date.as_str(), meta.kind.as_str(), meta.order.as_str());
        match best.get(&key) {
            Some((_, cur)) if cur.timestamp > meta.timestamp => {}
            _ => {
                best.insert(key, (*idx, meta));
            }
        }
    }
    let mut kept: Vec<usize> = best
        .values()
        .filter(|(_, m)| m.valid)
        .map(|(i, _)| *i)
        .collect();
    kept.sort_unstable();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fixture_name() {
        let m = parse(
            "999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1",
        )
        .unwrap();
        assert_eq!(
            (m.pid.as_str(), m.kind.as_str(), m.valid),
            ("9999013", "ADT-00", true)
        );
        assert_eq!(
            parse("999/901/9999013/-/ADT-00/x_y"),
            Err(Ssmix2Error::MalformedFileName)
        );
        assert_eq!(
            parse("999/902/9999013/-/ADT-00/9999013_-_ADT-00_1_20111220224447339_-_1"),
            Err(Ssmix2Error::PathMismatch)
        );
    }
}
