//! Turning one generated [`Person`] into output: a [`SourceRecord`] per provider and batch with
//! that provider's view of the person's identity (and its noise), notice-log rows, possibly a
//! stop request, and the ground-truth rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tsumugi_model::{
    Address, Event, EventKind, IdentityAttributes, Insurance, PersonName, ProviderId, ProviderKind,
    Sex, SourceRecord, wareki,
};

use crate::error::Result;
use crate::formats::{BatchOf, Target, derive_patient_id, write_record};
use crate::link::RecordTruth;
use crate::output::Sink;
use crate::person::{Card, Person, ProviderKey, Residence, World};
use crate::providers::{Provider, municipality_provider_id, patient_id};
use crate::sample::{add_days, age_at, chance, mix, rng_for};
use crate::text::{
    has_variant, swap_variants, to_fullwidth_digits, to_halfwidth_katakana, to_katakana,
};

/// Counters and per-provider state of a run (bounded by the number of providers).
#[derive(Debug, Default)]
pub(crate) struct RunState {
    serials: BTreeMap<ProviderKey, u64>,
    /// Claims written so far to each UKE file (for its `GO` line).
    pub uke_claims: BTreeMap<PathBuf, u64>,
    /// 特定健診 part files (NUL-separated CDA documents) and the ZIP each becomes.
    pub kenshin_parts: BTreeMap<PathBuf, PathBuf>,
    /// Municipalities that issued at least one record.
    pub used_munis: BTreeSet<usize>,
    pub persons: u64,
    pub records: u64,
    pub events: u64,
    pub notices: u64,
    pub stop_requests: u64,
    pub twins: u64,
    pub deceased: u64,
}

/// The person id written to the truth files.
pub(crate) fn person_id(ordinal: u64) -> String {
    format!("P{ordinal:010}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kana {
    Katakana,
    Hiragana,
    HalfWidth,
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Split,
    Joined(&'static str),
}

/// How one provider writes one person.
struct Profile {
    tags: Vec<&'static str>,
    variant: Option<usize>,
    kana: Kana,
    layout: Layout,
    birth: NaiveDate,
    sex: Sex,
    no_address: bool,
    hyphen_address: bool,
    no_prefecture: bool,
    postal: Option<bool>,
    no_insurance: bool,
    symbol_fullwidth: bool,
}

fn profile(p: &Person, rng: &mut ChaCha8Rng, family_kanji: &str) -> Profile {
    let mut tags = Vec::new();
    let variant = if has_variant(family_kanji) && chance(rng, 0.25) {
        tags.push("variant_kanji");
        Some(rng.random_range(0..2))
    } else {
        None
    };
    let u: f64 = rng.random();
    let kana = if u < 0.05 {
        tags.push("kana_missing");
        Kana::Missing
    } else if u < 0.30 {
        tags.push("kana_hiragana");
        Kana::Hiragana
    } else if u < 0.40 {
        tags.push("kana_halfwidth");
        Kana::HalfWidth
    } else {
        Kana::Katakana
    };
    let u: f64 = rng.random();
    let layout = if u < 0.75 {
        Layout::Split
    } else if u < 0.85 {
        tags.push("name_joined_fullwidth_space");
        Layout::Joined("\u{3000}")
    } else if u < 0.93 {
        tags.push("name_joined_space");
        Layout::Joined(" ")
    } else {
        tags.push("name_joined_nospace");
        Layout::Joined("")
    };
    let u: f64 = rng.random();
    let b = p.birth;
    let birth = if u < 0.006 {
        tags.push("dob_typo_day");
        add_days(b, if chance(rng, 0.5) { 1 } else { -1 })
    } else if u < 0.010 && b.day() <= 12 && b.day() != b.month() {
        tags.push("dob_swap");
        NaiveDate::from_ymd_opt(b.year(), b.day(), b.month()).unwrap_or(b)
    } else if u < 0.015 {
        tags.push("dob_typo_year");
        let y = if chance(rng, 0.5) { 1 } else { -1 };
        NaiveDate::from_ymd_opt(b.year() + y, b.month(), b.day().min(28)).unwrap_or(b)
    } else {
        b
    };
    let sex = if chance(rng, 0.002) {
        tags.push("sex_missing");
        Sex::Unknown
    } else {
        p.sex
    };
    let no_address = chance(rng, 0.05);
    if no_address {
        tags.push("no_address");
    }
    let hyphen_address = chance(rng, 0.4);
    if hyphen_address && !no_address {
        tags.push("address_hyphen");
    }
    let no_prefecture = chance(rng, 0.2);
    if no_prefecture && !no_address {
        tags.push("address_no_prefecture");
    }
    let u: f64 = rng.random();
    let postal = if u < 0.1 { None } else { Some(u < 0.7) };
    if !no_address {
        match postal {
            None => tags.push("no_postal"),
            Some(false) => tags.push("postal_nohyphen"),
            Some(true) => {}
        }
    }
    let no_insurance = chance(rng, 0.04);
    if no_insurance {
        tags.push("no_insurance");
    }
    let symbol_fullwidth = chance(rng, 0.1);
    if symbol_fullwidth && !no_insurance {
        tags.push("symbol_fullwidth");
    }
    Profile {
        tags,
        variant,
        kana,
        layout,
        birth,
        sex,
        no_address,
        hyphen_address,
        no_prefecture,
        postal,
        no_insurance,
        symbol_fullwidth,
    }
}

fn kana_as(s: &str, style: Kana) -> Option<String> {
    match style {
        Kana::Missing => None,
        Kana::Hiragana => Some(s.to_owned()),
        Kana::Katakana => Some(to_katakana(s)),
        Kana::HalfWidth => Some(to_halfwidth_katakana(&to_katakana(s))),
    }
}

fn person_name(
    family: &str,
    family_kana: &str,
    given: &str,
    given_kana: &str,
    pr: &Profile,
) -> PersonName {
    let family = match pr.variant {
        Some(k) => swap_variants(family, k),
        None => family.to_owned(),
    };
    let fk = kana_as(family_kana, pr.kana);
    let gk = kana_as(given_kana, pr.kana);
    match pr.layout {
        Layout::Split => PersonName {
            family_kanji: Some(family),
            given_kanji: Some(given.to_owned()),
            family_kana: fk,
            given_kana: gk,
        },
        Layout::Joined(sep) => {
            let ksep = if pr.kana == Kana::HalfWidth && sep == "\u{3000}" {
                " "
            } else {
                sep
            };
            PersonName {
                family_kanji: Some(format!("{family}{sep}{given}")),
                given_kanji: None,
                family_kana: fk.zip(gk).map(|(f, g)| format!("{f}{ksep}{g}")),
                given_kana: None,
            }
        }
    }
}

fn address_text(w: &World<'_>, r: &Residence, hyphen: bool, no_pref: bool) -> String {
    let (pref, muni) = w
        .refdata
        .municipalities
        .get(r.muni)
        .map(|m| {
            let pref = w
                .refdata
                .prefectures
                .get(m.pref)
                .map(|p| p.name.as_str())
                .unwrap_or("");
            (pref, m.name.as_str())
        })
        .unwrap_or(("", ""));
    let pref = if no_pref { "" } else { pref };
    if hyphen {
        format!("{pref}{muni}{}{}-{}-{}", r.town, r.chome, r.ban, r.go)
    } else {
        format!("{pref}{muni}{}{}丁目{}番{}号", r.town, r.chome, r.ban, r.go)
    }
}

fn postal_text(r: &Residence, hyphen: bool) -> String {
    if hyphen {
        format!(
            "{}-{}",
            r.postal.get(..3).unwrap_or(""),
            r.postal.get(3..).unwrap_or("")
        )
    } else {
        r.postal.clone()
    }
}

fn insurance(card: &Card, fullwidth: bool) -> Insurance {
    Insurance {
        insurer_number: Some(card.insurer.clone()),
        symbol: card.symbol.as_ref().map(|s| {
            if fullwidth {
                to_fullwidth_digits(s)
            } else {
                s.clone()
            }
        }),
        number: Some(card.number.clone()),
        branch: Some(card.branch.clone()),
    }
}

/// Collects identifier strings of one person for `truth/identifiers.csv`.
#[derive(Default)]
struct Identifiers(BTreeSet<(&'static str, String)>);

impl Identifiers {
    fn add(&mut self, field: &'static str, v: Option<&str>) {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            self.0.insert((field, v.to_owned()));
        }
    }
    fn name(&mut self, n: &PersonName) {
        self.pair("kanji", n.family_kanji.as_deref(), n.given_kanji.as_deref());
        self.pair("kana", n.family_kana.as_deref(), n.given_kana.as_deref());
    }
    fn pair(&mut self, script: &'static str, f: Option<&str>, g: Option<&str>) {
        let (ff, gf, full) = if script == "kanji" {
            ("family_kanji", "given_kanji", "full_kanji")
        } else {
            ("family_kana", "given_kana", "full_kana")
        };
        self.add(ff, f);
        self.add(gf, g);
        if let (Some(f), Some(g)) = (f, g) {
            for sep in [" ", "\u{3000}", ""] {
                self.add(full, Some(&format!("{f}{sep}{g}")));
            }
        }
    }
    fn date(&mut self, d: NaiveDate) {
        self.add("birth_date", Some(&d.format("%Y-%m-%d").to_string()));
        self.add("birth_date", Some(&d.format("%Y%m%d").to_string()));
    }
    fn identity(&mut self, id: &IdentityAttributes) {
        self.add("patient_id", id.patient_id.as_deref());
        for n in &id.names {
            self.name(n);
        }
        if let Some(b) = id.birth_date {
            self.date(b);
        }
        for a in &id.addresses {
            self.add("address", a.text.as_deref());
            self.add("postal_code", a.postal_code.as_deref());
        }
        for i in &id.insurances {
            self.add("insurer_number", i.insurer_number.as_deref());
            self.add("insured_symbol", i.symbol.as_deref());
            self.add("insured_number", i.number.as_deref());
        }
    }
}

/// The 介護保険 被保険者番号 of a person: 10 digits, distinct for distinct persons (an affine
/// bijection of the ordinal modulo 10¹⁰, offset by the seed).
fn care_insured_number(seed: u64, ordinal: u64) -> String {
    const MODULUS: u128 = 10_000_000_000;
    // Odd and not a multiple of 5, so coprime with the modulus.
    const FACTOR: u128 = 7_919_999_999;
    let n = (u128::from(ordinal) * FACTOR + u128::from(mix(seed, &[0xca4e]))) % MODULUS;
    format!("{n:010}")
}

/// One provider's record of the person, for stop requests.
struct Known {
    provider: ProviderId,
    patient_id: String,
    name: Option<PersonName>,
}

/// Writes everything about one person.
pub(crate) fn emit_person(
    w: &World<'_>,
    p: &Person,
    state: &mut RunState,
    sink: &mut Sink,
) -> Result<()> {
    let pid = person_id(p.ordinal);
    let end = p.end(w.as_of);
    let cut = add_days(w.as_of, -180);
    let mut ids = Identifiers::default();
    let mut known: Vec<Known> = Vec::new();
    let current_family = p
        .family_at(end)
        .map(|f| f.kanji.clone())
        .unwrap_or_default();
    let current_res = p.residence_at(end).cloned();
    let current_card = p.card_at(end).cloned();
    let twin = p.twin_of.map(person_id).unwrap_or_default();

    for (key, events) in &p.contacts {
        let (Some(first), Some(_)) = (events.first(), events.last()) else {
            continue;
        };
        let first_contact = first.date;
        let serial = state.serials.entry(*key).or_insert(0);
        let this_serial = *serial;
        *serial += 1;
        let (provider_id, kind, provider): (ProviderId, ProviderKind, Option<&Provider>) = match key
        {
            ProviderKey::Medical(i) => match w.registry.providers.get(*i) {
                Some(pr) => (pr.id.clone(), pr.kind, Some(pr)),
                None => continue,
            },
            ProviderKey::Municipality(m) => {
                state.used_munis.insert(*m);
                let code = w
                    .refdata
                    .municipalities
                    .get(*m)
                    .map(|x| x.code.as_str())
                    .unwrap_or("");
                (
                    municipality_provider_id(code),
                    ProviderKind::Municipality,
                    None,
                )
            }
        };
        let patient = match provider {
            Some(pr) => patient_id(pr, this_serial, w.seed),
            None => patient_id(
                &Provider {
                    id: provider_id.clone(),
                    kind: ProviderKind::Municipality,
                    name: String::new(),
                    municipality: 0,
                    id_style: 0,
                },
                this_serial,
                w.seed,
            ),
        };
        let key_hash = match key {
            ProviderKey::Medical(i) => *i as u64,
            ProviderKey::Municipality(m) => 1_000_000 + *m as u64,
        };
        // Half the hospitals run SS-MIX2 storage, chosen per provider.
        let target = Target::of(kind, mix(w.seed, &[0x55_3d_12, key_hash]).is_multiple_of(2));
        let mut rng = rng_for(w.seed, &[0x7ec, p.ordinal, key_hash]);
        let fam = p.family_at(first_contact).cloned();
        let fam_kanji = fam.as_ref().map(|f| f.kanji.clone()).unwrap_or_default();
        let mut pr = profile(p, &mut rng, &fam_kanji);
        if target.derives_patient_id() {
            // The card and the kana name are required in these formats.
            pr.no_insurance = false;
            if pr.kana == Kana::Missing {
                pr.kana = Kana::Katakana;
            }
            // A 介護 record carries the 介護保険 card instead of the health insurance.
            pr.tags.retain(|t| match *t {
                "kana_missing" => false,
                "no_insurance" => false,
                "symbol_fullwidth" => target != Target::Kaigo,
                _ => true,
            });
        }
        let mut tags = pr.tags.clone();
        if fam_kanji != current_family {
            tags.push("old_surname");
        }
        let res = p.residence_at(first_contact).cloned();
        if res != current_res && !pr.no_address {
            tags.push("old_address");
        }
        // Municipalities know the 住民票: the current name first, then earlier surnames.
        let mut names = Vec::new();
        let name_of = |f: &crate::refdata::Name| {
            person_name(&f.kanji, &f.kana, &p.given.kanji, &p.given.kana, &pr)
        };
        if kind == ProviderKind::Municipality {
            let last = events.last().map(|e| e.date).unwrap_or(first_contact);
            let mut hist: Vec<_> = p.families.iter().filter(|(d, _)| *d <= last).collect();
            hist.reverse();
            for (_, f) in hist {
                names.push(name_of(f));
            }
            if names.len() > 1 {
                tags.push("name_history");
            }
        } else if let Some(f) = &fam {
            names.push(name_of(f));
        }
        let addresses: Vec<Address> = match (&res, pr.no_address) {
            (Some(r), false) => vec![Address {
                postal_code: pr.postal.map(|h| postal_text(r, h)),
                text: Some(address_text(w, r, pr.hyphen_address, pr.no_prefecture)),
                municipality_code: matches!(
                    kind,
                    ProviderKind::Municipality | ProviderKind::CareProvider
                )
                .then(|| w.refdata.municipalities.get(r.muni).map(|m| m.code.clone()))
                .flatten(),
            }],
            _ => Vec::new(),
        };
        // The 介護保険 card: the municipality of residence is the 保険者.
        let care_card = (target == Target::Kaigo).then(|| {
            let muni = res
                .as_ref()
                .map(|r| r.muni)
                .or(provider.map(|p| p.municipality))
                .and_then(|m| w.refdata.municipalities.get(m))
                .map(|m| m.code.clone())
                .unwrap_or_default();
            (muni, care_insured_number(w.seed, p.ordinal))
        });
        // Notice log row.
        let u: f64 = rng.random();
        let notified = if u < 0.02 {
            tags.push("notice_missing");
            None
        } else if u < 0.05 {
            tags.push("notice_recent");
            Some(add_days(w.as_of, -rng.random_range(1..=29)))
        } else {
            let d = add_days(first_contact, rng.random_range(0..30));
            Some(d.min(add_days(w.as_of, -rng.random_range(31..=200))))
        };
        // The patient ids the provider's files carry (a card-derived id changes with the card).
        let mut patients: Vec<String> = Vec::new();
        for (batch, evs) in [
            (
                1u8,
                events
                    .iter()
                    .filter(|e| e.date < cut)
                    .cloned()
                    .collect::<Vec<Event>>(),
            ),
            (
                2u8,
                events
                    .iter()
                    .filter(|e| e.date >= cut)
                    .cloned()
                    .collect::<Vec<Event>>(),
            ),
        ] {
            let Some(last) = evs.last().map(|e| e.date) else {
                continue;
            };
            let card = p.card_at(last).cloned();
            let insurances = match (&card, pr.no_insurance) {
                (Some(c), false) => vec![insurance(c, pr.symbol_fullwidth)],
                _ => Vec::new(),
            };
            let old_card = card != current_card && !pr.no_insurance && target != Target::Kaigo;
            if old_card && !tags.contains(&"old_insurance") {
                tags.push("old_insurance");
            }
            let deceased_on = p.deceased_on.filter(|d| {
                evs.iter()
                    .any(|e| e.kind == EventKind::Death || e.end_date == Some(*d))
            });
            let first = evs.first().map(|e| e.date);
            let certifications = events
                .iter()
                .filter(|e| e.kind == EventKind::CareCertification)
                .filter_map(|e| e.code.as_ref().map(|c| (e.date, c.value.clone())));
            let care_level = certifications
                .clone()
                .filter(|(d, _)| first.is_some_and(|f| *d < f))
                .map(|(_, level)| level)
                .next_back()
                .or_else(|| certifications.map(|(_, level)| level).next());
            let mut record = SourceRecord {
                identity: IdentityAttributes {
                    patient_id: Some(patient.clone()),
                    names: names.clone(),
                    birth_date: Some(pr.birth),
                    sex: pr.sex,
                    addresses: addresses.clone(),
                    insurances,
                    deceased_on,
                },
                events: evs,
            };
            derive_patient_id(
                target,
                &mut record.identity,
                care_card.as_ref().map(|(m, n)| (m.as_str(), n.as_str())),
            );
            let this = record.identity.patient_id.clone().unwrap_or_default();
            if !patients.contains(&this) {
                patients.push(this);
            }
            ids.identity(&record.identity);
            let bundle_id = format!(
                "b{:016x}",
                mix(w.seed, &[0xb0d1e, p.ordinal, key_hash, u64::from(batch)])
            );
            write_record(
                sink,
                state,
                target,
                &BatchOf {
                    provider: &provider_id,
                    batch,
                    bundle_id: &bundle_id,
                    as_of: w.as_of,
                    care_level: care_level.as_deref(),
                    truth: RecordTruth {
                        person_id: &pid,
                        tags: &tags,
                        old_insurance: old_card,
                        twin_of: &twin,
                    },
                },
                record,
            )?;
        }
        if patients.is_empty() {
            patients.push(patient);
        }
        for patient in patients {
            if let Some(on) = notified {
                let to = match p.deceased_on {
                    Some(d) if on > d => "bereaved",
                    _ if age_at(p.birth, on) < 16 => "guardian",
                    _ => "person",
                };
                let rel: PathBuf = ["notices", &format!("{}.csv", provider_id.as_str())]
                    .iter()
                    .collect();
                let row = format!("{patient},{},{to}\n", on.format("%Y-%m-%d"));
                sink.append(
                    &rel,
                    Some("patient_id,notified_on,notified_to\n"),
                    row.as_bytes(),
                )?;
                state.notices += 1;
            }
            sink.truth_records.row([
                provider_id.as_str(),
                patient.as_str(),
                pid.as_str(),
                tags.join(";").as_str(),
            ])?;
            known.push(Known {
                provider: provider_id.clone(),
                patient_id: patient,
                name: names.first().cloned(),
            });
        }
    }

    let opted_out = stop_request(w, p, &pid, &known, state, sink, &mut ids)?;

    let (pref_code, muni_code) = current_res
        .as_ref()
        .and_then(|r| w.refdata.municipalities.get(r.muni))
        .map(|m| (m.code.get(..2).unwrap_or("").to_owned(), m.code.clone()))
        .unwrap_or_default();
    let dec = p.deceased_on.map(|d| d.to_string()).unwrap_or_default();
    sink.truth_persons.row([
        pid.as_str(),
        p.sex.code(),
        p.birth.to_string().as_str(),
        pref_code.as_str(),
        muni_code.as_str(),
        twin.as_str(),
        dec.as_str(),
        if opted_out { "true" } else { "false" },
    ])?;
    for (field, value) in &ids.0 {
        sink.truth_identifiers
            .row([pid.as_str(), field, value.as_str()])?;
    }
    state.persons += 1;
    if p.twin_of.is_some() {
        state.twins += 1;
    }
    if p.deceased_on.is_some() {
        state.deceased += 1;
    }
    Ok(())
}

/// About 1 % of persons send a stop request (提供停止請求); returns whether this one did.
fn stop_request(
    w: &World<'_>,
    p: &Person,
    pid: &str,
    known: &[Known],
    state: &mut RunState,
    sink: &mut Sink,
    ids: &mut Identifiers,
) -> Result<bool> {
    let mut rng = rng_for(w.seed, &[0x5709, p.ordinal]);
    if !chance(&mut rng, 0.01) || known.is_empty() {
        return Ok(false);
    }
    let mut received = if chance(&mut rng, 0.7) {
        add_days(w.as_of, -rng.random_range(0..365))
    } else {
        add_days(w.as_of, rng.random_range(1..=60))
    };
    if received < p.birth {
        received = add_days(p.birth, rng.random_range(30..120));
    }
    if let Some(d) = p.deceased_on
        && received <= d
    {
        received = add_days(d, rng.random_range(7..60));
    }
    let requester = match p.deceased_on {
        Some(d) if received > d => "bereaved",
        _ if age_at(p.birth, received) < 16 => "guardian",
        _ => "person",
    };
    state.stop_requests += 1;
    let request_id = format!("SR{:08}", state.stop_requests);
    let mut f: [String; 17] = Default::default();
    f[0].clone_from(&request_id);
    f[1] = received.to_string();
    f[5] = requester.to_owned();
    f[11] = p.sex.code().to_owned();
    if chance(&mut rng, 0.5) {
        f[2] = "provider".into();
        let k = known.get(rng.random_range(0..known.len()));
        if let Some(k) = k {
            f[3] = k.provider.as_str().to_owned();
            f[4].clone_from(&k.patient_id);
            ids.add("patient_id", Some(&k.patient_id));
            if chance(&mut rng, 0.5)
                && let Some(n) = &k.name
            {
                f[6] = n.family_kanji.clone().unwrap_or_default();
                f[7] = n.given_kanji.clone().unwrap_or_default();
                f[8] = n.family_kana.clone().unwrap_or_default();
                f[9] = n.given_kana.clone().unwrap_or_default();
            }
        }
    } else {
        f[2] = "centre".into();
        let on = received.min(p.end(w.as_of));
        // Old (maiden) surname sometimes; kana only sometimes.
        let fam = if p.families.len() > 1 && chance(&mut rng, 0.4) {
            p.families.first().map(|x| x.1.clone())
        } else {
            p.family_at(on).cloned()
        };
        if let Some(fam) = fam {
            let kana_only = chance(&mut rng, 0.3);
            if !kana_only {
                f[6] = if chance(&mut rng, 0.15) {
                    swap_variants(&fam.kanji, 0)
                } else {
                    fam.kanji.clone()
                };
                f[7].clone_from(&p.given.kanji);
            }
            let hira = chance(&mut rng, 0.3);
            let k = |s: &str| if hira { s.to_owned() } else { to_katakana(s) };
            f[8] = k(&fam.kana);
            f[9] = k(&p.given.kana);
        }
        f[10] = match rng.random_range(0..3) {
            0 => wareki::to_kanji(p.birth).unwrap_or_else(|| p.birth.to_string()),
            1 => p.birth.to_string(),
            _ => p.birth.format("%Y/%-m/%-d").to_string(),
        };
        let res = if p.residences.len() > 1 && chance(&mut rng, 0.4) {
            p.residences.first().map(|r| r.1.clone())
        } else {
            p.residence_at(on).cloned()
        };
        if let Some(r) = res {
            if chance(&mut rng, 0.8) {
                f[12] = postal_text(&r, true);
            }
            f[13] = address_text(w, &r, chance(&mut rng, 0.5), false);
        }
        if chance(&mut rng, 0.5)
            && let Some(c) = p.card_at(on)
        {
            f[14].clone_from(&c.insurer);
            f[15] = c.symbol.clone().unwrap_or_default();
            f[16].clone_from(&c.number);
        }
    }
    ids.add("family_kanji", Some(&f[6]));
    ids.add("given_kanji", Some(&f[7]));
    ids.add("family_kana", Some(&f[8]));
    ids.add("given_kana", Some(&f[9]));
    if !f[6].is_empty() && !f[7].is_empty() {
        for sep in [" ", "\u{3000}", ""] {
            ids.add("full_kanji", Some(&format!("{}{sep}{}", f[6], f[7])));
        }
    }
    if !f[8].is_empty() && !f[9].is_empty() {
        for sep in [" ", "\u{3000}", ""] {
            ids.add("full_kana", Some(&format!("{}{sep}{}", f[8], f[9])));
        }
    }
    ids.add("birth_date", Some(&f[10]));
    if !f[10].is_empty() {
        ids.date(p.birth);
    }
    ids.add("postal_code", Some(&f[12]));
    ids.add("address", Some(&f[13]));
    ids.add("insurer_number", Some(&f[14]));
    ids.add("insured_symbol", Some(&f[15]));
    ids.add("insured_number", Some(&f[16]));
    sink.stop_requests.row(f.iter())?;
    sink.truth_stops.row([request_id.as_str(), pid])?;
    Ok(true)
}
