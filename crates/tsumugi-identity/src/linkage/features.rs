//! Records prepared for comparison: every identifier normalized once, interned per field, and
//! laid out in flat columns (histories as offset ranges), so that comparing two records touches
//! only integers except where a fuzzy level needs the characters.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use tsumugi_model::{IdentityAttributes, Sex};

use crate::normalize;

/// No value (a missing field, or a value that normalizes to nothing).
pub(crate) const NONE: u32 = u32::MAX;

/// One record to link: who the source says the person is, and where the record comes from.
#[derive(Clone, Default)]
pub struct LinkRecord {
    /// The source (provider, dataset, input file): one-to-one constraints apply per source.
    pub source: String,
    /// The record's id within its source (the provider's patient id); records of a
    /// duplicate-free source sharing it are the same person.
    pub source_id: Option<String>,
    /// Whether the source gives each person one id (so two of its ids are two persons);
    /// `None`: as the configuration says for the source (`LinkConfig::unique_sources`).
    pub source_unique: Option<bool>,
    /// Names, dates, addresses and insurances, histories included.
    pub identity: IdentityAttributes,
    /// Free-form fields named by the configuration (`LinkConfig::extras`), in its order.
    pub extras: Vec<Option<String>>,
    /// Which input the record came from; with `LinkConfig::link_only`, only records of
    /// different inputs are compared.
    pub dataset: u32,
}

impl std::fmt::Debug for LinkRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkRecord { <redacted> }")
    }
}

/// Distinct normalized values of one field, with how many records hold each.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    ids: HashMap<Box<str>, u32>,
    pub(crate) chars: Vec<Box<[char]>>,
    counts: Vec<u32>,
}

impl Pool {
    fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return NONE;
        }
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.chars.len() as u32;
        self.ids.insert(s.into(), id);
        self.chars.push(s.chars().collect());
        self.counts.push(0);
        id
    }

    /// The characters of value `id`.
    pub(crate) fn chars(&self, id: u32) -> &[char] {
        self.chars.get(id as usize).map_or(&[], |c| c)
    }

    /// Records holding value `id` (each record counted once per field).
    pub(crate) fn count(&self, id: u32) -> u32 {
        self.counts.get(id as usize).copied().unwrap_or(0)
    }

    /// The id of an already normalized value, if any record holds it.
    pub(crate) fn lookup(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn count_record(&mut self, ids: &mut Vec<u32>) {
        ids.sort_unstable();
        ids.dedup();
        for id in ids.drain(..) {
            if let Some(c) = self.counts.get_mut(id as usize) {
                *c += 1;
            }
        }
    }
}

/// One name of a record, each part interned in its field's pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameIds {
    pub family_kanji: u32,
    pub given_kanji: u32,
    pub family_kana: u32,
    pub given_kana: u32,
    pub family_fuzzy: u32,
    pub given_fuzzy: u32,
    /// The whole kanji name (family and given joined), for names written whole.
    pub full_kanji: u32,
    /// The whole kana name.
    pub full_kana: u32,
}

/// A birth date as parts and as a day number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dob {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// Days since 0001-01-01.
    pub ordinal: i32,
}

/// One address: canonical text, postcode and municipality (5 digits, the current
/// municipality's: see [`normalize::municipality`]), each [`NONE`] or 0 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AddrIds {
    pub text: u32,
    pub postcode: u32,
    pub municipality: u32,
    /// For a ward of a designated city, the city (5 digits); otherwise `municipality`.
    pub city: u32,
}

/// One insurance card as hashes: the whole card (with 枝番), the household's card (without),
/// and the insurer; 0 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CardIds {
    pub card: u64,
    pub household: u64,
    pub insurer: u64,
}

/// Flat storage of a multi-valued column: values of record `i` are `values[offsets[i]..offsets[i+1]]`.
#[derive(Debug)]
pub(crate) struct Multi<T> {
    offsets: Vec<u32>,
    values: Vec<T>,
}

impl<T> Multi<T> {
    pub(crate) fn new() -> Multi<T> {
        Multi {
            offsets: vec![0],
            values: Vec::new(),
        }
    }

    pub(crate) fn push_record(&mut self, values: impl IntoIterator<Item = T>) {
        self.values.extend(values);
        self.offsets.push(self.values.len() as u32);
    }

    /// The values of record `i`.
    pub(crate) fn of(&self, i: usize) -> &[T] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.values.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Every record of a run, prepared.
#[derive(Debug)]
pub struct Prepared {
    pub(crate) n: usize,
    pub(crate) family_kanji: Pool,
    pub(crate) given_kanji: Pool,
    pub(crate) family_kana: Pool,
    pub(crate) given_kana: Pool,
    pub(crate) fuzzy_kana: Pool,
    pub(crate) full_name: Pool,
    pub(crate) address: Pool,
    pub(crate) extra_pools: Vec<Pool>,
    pub(crate) names: Multi<NameIds>,
    pub(crate) dob: Vec<Option<Dob>>,
    pub(crate) sex: Vec<Sex>,
    pub(crate) addresses: Multi<AddrIds>,
    pub(crate) cards: Multi<CardIds>,
    pub(crate) extras: Vec<Vec<u32>>,
    pub(crate) source: Vec<u32>,
    pub(crate) source_id: Vec<u32>,
    pub(crate) source_unique: Vec<Option<bool>>,
    pub(crate) dataset: Vec<u32>,
    pub(crate) sources: Pool,
    source_ids: Pool,
}

impl Prepared {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

/// A record with every field normalized, before interning.
struct Normalized {
    names: Vec<[String; 8]>,
    dob: Option<Dob>,
    sex: Sex,
    /// (canonical text, postcode, municipality, city) as in [`AddrIds`].
    addresses: Vec<(String, u32, u32, u32)>,
    cards: Vec<CardIds>,
    extras: Vec<String>,
}

/// The family and given parts of a name, each normalized with `f`: the source's split, or the
/// whole name split at its first space when the source wrote it whole (a name written whole
/// with no space keeps it all as the family part, and the given part is missing).
fn name_parts(
    family: Option<&str>,
    given: Option<&str>,
    f: fn(&str) -> String,
) -> (String, String) {
    let family = family.unwrap_or_default().trim();
    let given = given.unwrap_or_default().trim();
    if !given.is_empty() {
        return (f(family), f(given));
    }
    match family.find(|c: char| c.is_whitespace() || c == '\u{3000}') {
        Some(at) => (f(&family[..at]), f(&family[at..])),
        None => (f(family), String::new()),
    }
}

fn hash(parts: &[&str]) -> u64 {
    if parts.iter().any(|p| p.is_empty()) {
        return 0;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish().max(1)
}

fn normalized(r: &LinkRecord) -> Normalized {
    let id = &r.identity;
    let names = id
        .names
        .iter()
        .map(|n| {
            let (fk, gk) = name_parts(
                n.family_kanji.as_deref(),
                n.given_kanji.as_deref(),
                normalize::kanji,
            );
            let (fr, gr) = name_parts(
                n.family_kana.as_deref(),
                n.given_kana.as_deref(),
                normalize::kana,
            );
            let (ff, gf) = (normalize::kana_fuzzy(&fr), normalize::kana_fuzzy(&gr));
            let (wk, wr) = (format!("{fk}{gk}"), format!("{fr}{gr}"));
            [fk, gk, fr, gr, ff, gf, wk, wr]
        })
        .collect();
    let dob = id.birth_date.map(|d| {
        use chrono::Datelike;
        Dob {
            year: d.year(),
            month: d.month(),
            day: d.day(),
            ordinal: d.num_days_from_ce(),
        }
    });
    let addresses = id
        .addresses
        .iter()
        .map(|a| {
            let text = a
                .text
                .as_deref()
                .map(normalize::address)
                .unwrap_or_default();
            let postcode = a
                .postal_code
                .as_deref()
                .and_then(normalize::postcode)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let muni = normalize::municipality(a.municipality_code.as_deref(), a.text.as_deref());
            let five = |m: &str| m.get(..5).and_then(|m| m.parse::<u32>().ok());
            let code = muni.as_deref().and_then(five).unwrap_or(0);
            let city = muni
                .as_deref()
                .and_then(normalize::designated_city)
                .and_then(five)
                .unwrap_or(code);
            (text, postcode, code, city)
        })
        .collect();
    let cards = id
        .insurances
        .iter()
        .map(|c| {
            let insurer = c.insurer_number.as_deref().map(normalize::digits);
            let symbol = c.symbol.as_deref().map(normalize::kanji);
            let number = c.number.as_deref().map(normalize::kanji);
            let branch = c.branch.as_deref().map(normalize::digits);
            let (i, s, n, b) = (
                insurer.as_deref().unwrap_or_default(),
                symbol.as_deref().unwrap_or("-"),
                number.as_deref().unwrap_or_default(),
                branch.as_deref().unwrap_or_default(),
            );
            CardIds {
                card: hash(&[i, s, n, b]),
                household: hash(&[i, s, n]),
                insurer: hash(&[i]),
            }
        })
        .collect();
    let extras = r
        .extras
        .iter()
        .map(|e| e.as_deref().map(normalize::kanji).unwrap_or_default())
        .collect();
    Normalized {
        names,
        dob,
        sex: id.sex,
        addresses,
        cards,
        extras,
    }
}

/// Normalizes (in parallel) and interns every record.
pub fn prepare(records: &[LinkRecord]) -> Prepared {
    let n_extras = records.iter().map(|r| r.extras.len()).max().unwrap_or(0);
    let mut p = Prepared::empty(n_extras);
    p.extend(records);
    p
}

impl Prepared {
    /// No records yet, with room for `n_extras` free-form fields.
    pub fn empty(n_extras: usize) -> Prepared {
        Prepared {
            n: 0,
            family_kanji: Pool::default(),
            given_kanji: Pool::default(),
            family_kana: Pool::default(),
            given_kana: Pool::default(),
            fuzzy_kana: Pool::default(),
            full_name: Pool::default(),
            address: Pool::default(),
            extra_pools: (0..n_extras).map(|_| Pool::default()).collect(),
            names: Multi::new(),
            dob: Vec::new(),
            sex: Vec::new(),
            addresses: Multi::new(),
            cards: Multi::new(),
            extras: vec![Vec::new(); n_extras],
            source: Vec::new(),
            source_id: Vec::new(),
            source_unique: Vec::new(),
            dataset: Vec::new(),
            sources: Pool::default(),
            source_ids: Pool::default(),
        }
    }

    /// Normalizes (in parallel) and appends `records`; they get the next indices. Values
    /// already seen keep their ids, so earlier records need no work.
    pub fn extend(&mut self, records: &[LinkRecord]) {
        // Chunks bound the normalized copies held at once.
        for chunk in records.chunks(1 << 16) {
            self.extend_chunk(chunk);
        }
    }

    fn extend_chunk(&mut self, records: &[LinkRecord]) {
        let normalized: Vec<Normalized> = records.par_iter().map(normalized).collect();
        let p = self;
        p.n += records.len();
        let mut seen: [Vec<u32>; 6] = Default::default();
        for (r, norm) in records.iter().zip(normalized) {
            let names: Vec<NameIds> = norm
                .names
                .iter()
                .map(|[fk, gk, fr, gr, ff, gf, wk, wr]| NameIds {
                    family_kanji: p.family_kanji.intern(fk),
                    given_kanji: p.given_kanji.intern(gk),
                    family_kana: p.family_kana.intern(fr),
                    given_kana: p.given_kana.intern(gr),
                    family_fuzzy: p.fuzzy_kana.intern(ff),
                    given_fuzzy: p.fuzzy_kana.intern(gf),
                    full_kanji: p.full_name.intern(wk),
                    full_kana: p.full_name.intern(wr),
                })
                .collect();
            for n in &names {
                seen[0].push(n.family_kanji);
                seen[1].push(n.given_kanji);
                seen[2].push(n.family_kana);
                seen[3].push(n.given_kana);
            }
            p.family_kanji.count_record(&mut seen[0]);
            p.given_kanji.count_record(&mut seen[1]);
            p.family_kana.count_record(&mut seen[2]);
            p.given_kana.count_record(&mut seen[3]);
            p.names.push_record(names);
            p.dob.push(norm.dob);
            p.sex.push(norm.sex);
            let addrs: Vec<AddrIds> = norm
                .addresses
                .iter()
                .map(|(text, postcode, municipality, city)| AddrIds {
                    text: p.address.intern(text),
                    postcode: *postcode,
                    municipality: *municipality,
                    city: *city,
                })
                .collect();
            seen[4].extend(addrs.iter().map(|a| a.text));
            p.address.count_record(&mut seen[4]);
            p.addresses.push_record(addrs);
            p.cards.push_record(norm.cards);
            for (k, (column, pool)) in p
                .extras
                .iter_mut()
                .zip(p.extra_pools.iter_mut())
                .enumerate()
            {
                let v = norm.extras.get(k).map_or("", String::as_str);
                let id = pool.intern(v);
                seen[5].push(id);
                pool.count_record(&mut seen[5]);
                column.push(id);
            }
            p.source.push(p.sources.intern(&r.source));
            p.source_unique.push(r.source_unique);
            p.dataset.push(r.dataset);
            p.source_id.push(
                p.source_ids
                    .intern(r.source_id.as_deref().unwrap_or_default()),
            );
        }
    }
}
