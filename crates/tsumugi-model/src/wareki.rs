//! 和暦 (Japanese era) dates, accepted wherever a date is read.
//!
//! Accepted spellings: ISO `YYYY-MM-DD`, `YYYYMMDD`, `YYYY/M/D`; kanji eras `令和5年4月1日` and
//! `平成元年1月8日` (full-width digits too); letter eras `R05.04.01`, `H1/1/8`, `S31-03-12`; and the
//! numeric era form of UKE claims, `GYYMMDD` (era digit 1–5: 明治 大正 昭和 平成 令和).
//! A 和暦 date outside its era (平成31年5月1日, 昭和64年1月8日) is an error, not silently moved.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use thiserror::Error;

use crate::Date;

/// A Japanese era.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Era {
    /// 明治 (1868-01-25 – 1912-07-29)
    Meiji,
    /// 大正 (1912-07-30 – 1926-12-24)
    Taisho,
    /// 昭和 (1926-12-25 – 1989-01-07)
    Showa,
    /// 平成 (1989-01-08 – 2019-04-30)
    Heisei,
    /// 令和 (2019-05-01 –)
    Reiwa,
}

impl Era {
    /// Every era, oldest first.
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// The first day of the era.
    pub fn start(self) -> Date {
        let (y, m, d) = match self {
            Era::Meiji => (1868, 1, 25),
            Era::Taisho => (1912, 7, 30),
            Era::Showa => (1926, 12, 25),
            Era::Heisei => (1989, 1, 8),
            Era::Reiwa => (2019, 5, 1),
        };
        // The constants above are valid dates; `MIN` is unreachable.
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    /// The last day of the era, or `None` for the current one.
    pub fn end(self) -> Option<Date> {
        let next = Era::ALL.into_iter().find(|e| *e > self)?;
        next.start().pred_opt()
    }

    /// The kanji name, e.g. `令和`.
    pub fn kanji(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The letter used in abbreviations, e.g. `R`.
    pub fn letter(self) -> char {
        match self {
            Era::Meiji => 'M',
            Era::Taisho => 'T',
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    /// The digit used by receipt (UKE) files: 1 明治 … 5 令和.
    pub fn digit(self) -> u32 {
        match self {
            Era::Meiji => 1,
            Era::Taisho => 2,
            Era::Showa => 3,
            Era::Heisei => 4,
            Era::Reiwa => 5,
        }
    }

    /// The era a date falls in, or `None` before 明治.
    pub fn of(date: Date) -> Option<Era> {
        Era::ALL.into_iter().rev().find(|e| date >= e.start())
    }

    fn from_name(s: &str) -> Option<Era> {
        Era::ALL
            .into_iter()
            .find(|e| s == e.kanji() || s.eq_ignore_ascii_case(&e.letter().to_string()))
    }

    fn from_digit(d: u32) -> Option<Era> {
        Era::ALL.into_iter().find(|e| e.digit() == d)
    }
}

/// Why a date did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DateError {
    /// The text matches no accepted spelling.
    #[error("unrecognised date format")]
    InvalidFormat,
    /// Year, month and day do not form a calendar date.
    #[error("no such calendar date")]
    InvalidDate,
    /// A 和暦 date lies outside its era (e.g. 平成31年5月1日).
    #[error("date lies outside the era {era}")]
    OutsideEra {
        /// The era named in the text.
        era: &'static str,
    },
}

/// Parses a date in any accepted spelling (see the module docs).
///
/// # Errors
/// [`DateError`] when the text is not a date; the error never repeats the text.
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let s = folded(text);
    if s.is_empty() {
        return Err(DateError::InvalidFormat);
    }
    let first = s.chars().next().ok_or(DateError::InvalidFormat)?;
    if first.is_ascii_digit() {
        let digits_only = s.chars().all(|c| c.is_ascii_digit());
        if digits_only && s.len() == 7 {
            let era = digit_era(&s[..1])?;
            let [y, m, d] = split_fixed(&s[1..], [2, 2, 2])?;
            return era_date(era, y, m, d);
        }
        if digits_only && s.len() == 8 {
            let [y, m, d] = split_fixed(&s, [4, 2, 2])?;
            return ymd(y as i32, m, d);
        }
        let [y, m, d] = split_three(&s)?;
        return ymd(y as i32, m, d);
    }
    let (era, rest) = take_era(&s)?;
    let rest = rest.replacen('元', "1", 1);
    let [y, m, d] = split_three(&rest)?;
    era_date(era, y, m, d)
}

/// Parses a year-month: `YYYYMM`, `YYYY-MM`, or the UKE era form `GYYMM`; returns the first day.
///
/// # Errors
/// [`DateError`] when the text is not a year-month.
pub fn parse_year_month(text: &str) -> Result<Date, DateError> {
    let s = folded(text);
    if s.len() == 5 && s.chars().all(|c| c.is_ascii_digit()) {
        let era = digit_era(&s[..1])?;
        let [y, m] = split_fixed(&s[1..], [2, 2])?;
        return era_date(era, y, m, 1).or_else(|_| {
            // The first of the month may precede the era start (e.g. 平成1年1月); the month is
            // still valid when its last day lies inside the era.
            let d = ymd(era.start().year() + y as i32 - 1, m, 1)?;
            if d.year() == era.start().year() && d.month() == era.start().month() {
                Ok(d)
            } else {
                Err(DateError::OutsideEra { era: era.kanji() })
            }
        });
    }
    if s.len() == 6 && s.chars().all(|c| c.is_ascii_digit()) {
        let [y, m] = split_fixed(&s, [4, 2])?;
        return ymd(y as i32, m, 1);
    }
    parse_date(&format!("{s}-01"))
}

/// Formats a date as `令和5年4月1日` (first year as 元年).
pub fn to_kanji(date: Date) -> Option<String> {
    let era = Era::of(date)?;
    let year = date.year() - era.start().year() + 1;
    let year = if year == 1 {
        "元".to_owned()
    } else {
        year.to_string()
    };
    Some(format!(
        "{}{}年{}月{}日",
        era.kanji(),
        year,
        date.month(),
        date.day()
    ))
}

/// Formats a date as UKE's `GYYMMDD`.
pub fn to_uke(date: Date) -> Option<String> {
    let era = Era::of(date)?;
    let year = date.year() - era.start().year() + 1;
    Some(format!(
        "{}{:02}{:02}{:02}",
        era.digit(),
        year,
        date.month(),
        date.day()
    ))
}

/// `text` trimmed, full-width digits, letters and separators folded to ASCII. ASCII text (every
/// UKE date) is returned as a borrowed slice: readers parse millions of dates, none allocates.
fn folded(text: &str) -> Cow<'_, str> {
    let t = text.trim();
    if t.is_ascii() {
        Cow::Borrowed(t)
    } else {
        Cow::Owned(t.chars().map(fold_width).collect())
    }
}

fn fold_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        'Ａ'..='Ｚ' => char::from_u32(c as u32 - 'Ａ' as u32 + 'A' as u32).unwrap_or(c),
        '．' => '.',
        '／' => '/',
        '－' | 'ー' | '―' => '-',
        _ => c,
    }
}

fn digit_era(s: &str) -> Result<Era, DateError> {
    s.parse::<u32>()
        .ok()
        .and_then(Era::from_digit)
        .ok_or(DateError::InvalidFormat)
}

fn take_era(s: &str) -> Result<(Era, &str), DateError> {
    for era in Era::ALL {
        if let Some(rest) = s.strip_prefix(era.kanji()) {
            return Ok((era, rest));
        }
    }
    let mut chars = s.chars();
    let letter = chars.next().ok_or(DateError::InvalidFormat)?;
    let era = Era::from_name(&letter.to_string()).ok_or(DateError::InvalidFormat)?;
    Ok((era, chars.as_str()))
}

fn split_fixed<const N: usize>(s: &str, widths: [usize; N]) -> Result<[u32; N], DateError> {
    let mut out = [0; N];
    let mut at = 0;
    for (slot, w) in out.iter_mut().zip(widths) {
        let part = s.get(at..at + w).ok_or(DateError::InvalidFormat)?;
        *slot = part.parse().map_err(|_| DateError::InvalidFormat)?;
        at += w;
    }
    Ok(out)
}

/// Splits `Y?M?D` on any run of non-digits (`-`, `/`, `.`, `年`, `月`, `日`).
fn split_three(s: &str) -> Result<[u32; 3], DateError> {
    let parts: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let trailing_ok = s
        .trim_end_matches('日')
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_digit());
    if parts.len() != 3 || !trailing_ok || parts.iter().any(|p| p.len() > 4) {
        return Err(DateError::InvalidFormat);
    }
    let mut out = [0; 3];
    for (slot, p) in out.iter_mut().zip(parts) {
        *slot = p.parse().map_err(|_| DateError::InvalidFormat)?;
    }
    Ok(out)
}

fn ymd(y: i32, m: u32, d: u32) -> Result<Date, DateError> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or(DateError::InvalidDate)
}

fn era_date(era: Era, year: u32, m: u32, d: u32) -> Result<Date, DateError> {
    if year == 0 {
        return Err(DateError::InvalidDate);
    }
    let date = ymd(era.start().year() + year as i32 - 1, m, d)?;
    let inside = date >= era.start() && era.end().is_none_or(|end| date <= end);
    if inside {
        Ok(date)
    } else {
        Err(DateError::OutsideEra { era: era.kanji() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expect: &str) {
        let got = match parse_date(input) {
            Ok(d) => d.to_string(),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expect, "input {input:?}");
    }

    #[test]
    fn western_spellings() {
        check("2023-04-01", "2023-04-01");
        check("20230401", "2023-04-01");
        check("2023/4/1", "2023-04-01");
        check("２０２３年４月１日", "2023-04-01");
        check("2023-02-30", "error: no such calendar date");
        check("12/34", "error: unrecognised date format");
        check("", "error: unrecognised date format");
    }

    #[test]
    fn era_boundaries() {
        check("昭和64年1月7日", "1989-01-07");
        check("昭和64年1月8日", "error: date lies outside the era 昭和");
        check("平成元年1月8日", "1989-01-08");
        check("平成1年1月7日", "error: date lies outside the era 平成");
        check("平成31年4月30日", "2019-04-30");
        check("平成31年5月1日", "error: date lies outside the era 平成");
        check("令和元年5月1日", "2019-05-01");
        check("令和０５年０４月０１日", "2023-04-01");
    }

    #[test]
    fn abbreviated_and_numeric_eras() {
        check("R05.04.01", "2023-04-01");
        check("H1/1/8", "1989-01-08");
        check("s31-03-12", "1956-03-12");
        check("3310312", "1956-03-12");
        check("5050401", "2023-04-01");
        check("6050401", "error: unrecognised date format");
    }

    #[test]
    fn year_months() {
        let ym = |s: &str| parse_year_month(s).map(|d| d.to_string());
        assert_eq!(ym("202304").as_deref(), Ok("2023-04-01"));
        assert_eq!(ym("50504").as_deref(), Ok("2023-04-01"));
        assert_eq!(ym("40101").as_deref(), Ok("1989-01-01"));
        assert_eq!(ym("2023-04").as_deref(), Ok("2023-04-01"));
    }

    proptest::proptest! {
        #[test]
        fn kanji_and_uke_round_trip(days in 0i64..60_000) {
            let date = NaiveDate::from_ymd_opt(1870, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let kanji = to_kanji(date).unwrap();
            proptest::prop_assert_eq!(parse_date(&kanji), Ok(date));
            let uke = to_uke(date).unwrap();
            proptest::prop_assert_eq!(parse_date(&uke), Ok(date));
        }
    }
}
