//! One household unit's lifecourse: a person drawn from the population (and, for women with
//! births in the window, their babies as further persons), with name, address and insurance
//! histories and the events each provider saw.
//!
//! Everything here is a function of `(seed, unit index)`: a unit's RNG is derived from them and
//! consumed in a fixed order, so a person never depends on another unit.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tsumugi_model::{Code, CodeSystem, EncounterClass, Event, EventKind, ProviderKind, Sex};

use crate::codes::{self, Condition, Item};
use crate::insurer::{Scheme, insurer_number};
use crate::population as pop;
use crate::providers::Registry;
use crate::refdata::{Name, RefData};
use crate::sample::{
    Weighted, add_days, add_months, add_years, age_at, chance, date_between, mix, normal, rng_for,
    round_to,
};

/// Fixed inputs of a run shared by every unit.
pub(crate) struct World<'a> {
    pub seed: u64,
    pub as_of: NaiveDate,
    pub refdata: &'a RefData,
    pub registry: &'a Registry,
    /// Start of clinical data (as_of − 5 years).
    pub data_start: NaiveDate,
    /// Start of the birth window (as_of − 15 years).
    pub birth_start: NaiveDate,
    pyramid_adult: Weighted,
    death_ages: Weighted,
    acute: Weighted,
}

impl<'a> World<'a> {
    pub(crate) fn new(
        seed: u64,
        as_of: NaiveDate,
        refdata: &'a RefData,
        registry: &'a Registry,
    ) -> World<'a> {
        World {
            seed,
            as_of,
            refdata,
            registry,
            data_start: add_years(as_of, -5),
            birth_start: add_years(as_of, -15),
            // Under-15s are born inside the simulation; adults come from the pyramid.
            pyramid_adult: Weighted::new(
                pop::PYRAMID
                    .iter()
                    .map(|(lo, n, _)| if *lo >= 15 { *n } else { 0.0 }),
            ),
            death_ages: Weighted::new(pop::DEATH_AGE.iter().map(|b| b.1)),
            acute: Weighted::new(codes::ACUTE.iter().map(|a| a.2)),
        }
    }
}

/// Where a provider is: a medical provider of the registry, or a municipality (its index in
/// the municipality table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ProviderKey {
    Medical(usize),
    Municipality(usize),
}

/// A street address within a municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Residence {
    pub muni: usize,
    pub postal: String,
    pub town: String,
    pub chome: u32,
    pub ban: u32,
    pub go: u32,
    /// Medical providers used while living here: clinic, hospital, checkup centre, care.
    pub clinic: usize,
    pub hospital: usize,
    pub checkup: usize,
    pub care: usize,
}

/// A health-insurance card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Card {
    pub scheme: Scheme,
    pub insurer: String,
    pub symbol: Option<String>,
    pub number: String,
    pub branch: String,
}

/// One person with histories and events.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub ordinal: u64,
    pub sex: Sex,
    pub birth: NaiveDate,
    pub deceased_on: Option<NaiveDate>,
    pub twin_of: Option<u64>,
    /// Surname history: (from, name), oldest first.
    pub families: Vec<(NaiveDate, Name)>,
    pub given: Name,
    /// Address history, oldest first.
    pub residences: Vec<(NaiveDate, Residence)>,
    /// Insurance history, oldest first.
    pub cards: Vec<(NaiveDate, Card)>,
    /// Events per provider, in date order after [`Person::finish`].
    pub contacts: BTreeMap<ProviderKey, Vec<Event>>,
}

fn at<T>(hist: &[(NaiveDate, T)], on: NaiveDate) -> Option<&T> {
    hist.iter()
        .take_while(|(from, _)| *from <= on)
        .last()
        .or_else(|| hist.first())
        .map(|(_, v)| v)
}

impl Person {
    /// The last day this person has data: death or `as_of`.
    pub(crate) fn end(&self, as_of: NaiveDate) -> NaiveDate {
        self.deceased_on.unwrap_or(as_of).min(as_of)
    }
    pub(crate) fn family_at(&self, on: NaiveDate) -> Option<&Name> {
        at(&self.families, on)
    }
    pub(crate) fn residence_at(&self, on: NaiveDate) -> Option<&Residence> {
        at(&self.residences, on)
    }
    pub(crate) fn card_at(&self, on: NaiveDate) -> Option<&Card> {
        at(&self.cards, on)
    }
    fn add(&mut self, key: ProviderKey, ev: Event) {
        self.contacts.entry(key).or_default().push(ev);
    }
    fn finish(&mut self) {
        for evs in self.contacts.values_mut() {
            evs.sort_by_key(|a| a.date);
        }
    }
}

fn ev(kind: EventKind, date: NaiveDate) -> Event {
    Event {
        kind,
        date,
        end_date: None,
        code: None,
        value: None,
        unit: None,
    }
}

fn coded(kind: EventKind, date: NaiveDate, system: CodeSystem, code: &str) -> Event {
    Event {
        code: Some(Code::new(system, code)),
        ..ev(kind, date)
    }
}

fn measured(kind: EventKind, date: NaiveDate, system: CodeSystem, item: Item, value: f64) -> Event {
    Event {
        value: Some(value),
        unit: Some(item.unit.to_owned()),
        ..coded(kind, date, system, item.code)
    }
}

/// Share of clinic prescriptions filled at a pharmacy (院外処方, most prescriptions in Japan).
const DISPENSED_SHARE: f64 = 0.75;

/// Most clinic prescriptions are filled at a pharmacy near `home`, on the day or up to two days
/// later (never after `end`): a dispensing of the same drug and days, coded with its receipt
/// code where one is known (see [`codes::receipt_drug`]). The draws come from streams of their
/// own, keyed on the person and the prescription, so everything else about the person is
/// generated as before; a person uses one pharmacy per home (かかりつけ).
fn dispense(w: &World<'_>, p: &mut Person, home: &Residence, rx: &Event, end: NaiveDate) {
    let Some(code) = &rx.code else { return };
    let drug = mix(0, &code.value.bytes().map(u64::from).collect::<Vec<_>>());
    let day = rx.date.num_days_from_ce() as u64;
    let mut rng = rng_for(w.seed, &[0xd15e, p.ordinal, day, drug]);
    if !chance(&mut rng, DISPENSED_SHARE) {
        return;
    }
    let date = add_days(rx.date, rng.random_range(0..=2)).min(end);
    let mut choose = rng_for(
        w.seed,
        &[0xfa4, p.ordinal, home.muni as u64, home.clinic as u64],
    );
    let pharmacy = w
        .registry
        .pick(pref_of(w, home), ProviderKind::Pharmacy, &mut choose);
    let code = match codes::receipt_drug(&code.value) {
        Some(receipt) => Code::new(CodeSystem::ReceiptDrug, receipt),
        None => code.clone(),
    };
    p.add(
        ProviderKey::Medical(pharmacy),
        Event {
            value: rx.value,
            code: Some(code),
            ..ev(EventKind::Dispensing, date)
        },
    );
}

fn digits(rng: &mut impl Rng, n: u32) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// Generates one unit: the primary person (ordinal `first`) and the babies born to her.
/// At most `cap` persons are returned (babies past the cap are not emitted; their mother's
/// birth events remain).
pub(crate) fn generate_unit(w: &World<'_>, unit: u64, first: u64, cap: u64) -> Vec<Person> {
    let mut rng = rng_for(w.seed, &[0x0a17, unit]);
    let mut mother = primary(w, &mut rng, first);
    let births = events_for(w, &mut rng, &mut mother, true);
    mother.finish();
    let mut out = vec![mother];
    let mut next = first + 1;
    for (k, b) in births.into_iter().enumerate() {
        let twins = b.twins;
        let n = if twins { 2 } else { 1 };
        let mut pair = Vec::new();
        for t in 0..n {
            if out.len() as u64 >= cap {
                break;
            }
            let mut crng = rng_for(w.seed, &[0xc41d, unit, k as u64, t]);
            let Some(mother) = out.first() else { break };
            let mut child = baby(w, &mut crng, mother, &b, next, (k + t as usize) as u32);
            events_for(w, &mut crng, &mut child, false);
            child.finish();
            pair.push(child);
            next += 1;
        }
        if let [a, b2] = pair.as_mut_slice() {
            a.twin_of = Some(b2.ordinal);
            b2.twin_of = Some(a.ordinal);
            // Twins never share a given name.
            if a.given.kanji == b2.given.kanji {
                let alt = w.refdata.females.names.first().cloned();
                if let Some(alt) = alt {
                    b2.given = alt;
                }
            }
        }
        out.extend(pair);
    }
    out
}

fn pick_given(w: &World<'_>, rng: &mut impl Rng, sex: Sex, birth: NaiveDate) -> Name {
    let old = birth.year() < 1965 && chance(rng, 0.4);
    let table = match (sex, old) {
        (Sex::Male, false) => &w.refdata.males,
        (Sex::Male, true) => &w.refdata.males_old,
        (_, false) => &w.refdata.females,
        (_, true) => &w.refdata.females_old,
    };
    table.pick(rng).cloned().unwrap_or(Name {
        kanji: "太郎".into(),
        kana: "たろう".into(),
    })
}

fn pick_family(w: &World<'_>, rng: &mut impl Rng) -> Name {
    w.refdata.families.pick(rng).cloned().unwrap_or(Name {
        kanji: "佐藤".into(),
        kana: "さとう".into(),
    })
}

fn new_residence(w: &World<'_>, rng: &mut impl Rng, pref: usize) -> Residence {
    let p = w.refdata.prefectures.get(pref);
    let muni = p
        .and_then(|p| p.munis.get(p.muni_weights.pick(rng)))
        .copied()
        .unwrap_or(0);
    let town = w
        .refdata
        .towns
        .get(rng.random_range(0..w.refdata.towns.len().max(1)))
        .cloned()
        .unwrap_or_default();
    // Synthetic postal code: 3 digits from the prefecture and municipality, 4 random.
    let code = w
        .refdata
        .municipalities
        .get(muni)
        .map(|m| m.code.clone())
        .unwrap_or_default();
    let head: u32 = code.get(..5).and_then(|s| s.parse().ok()).unwrap_or(0);
    let postal = format!("{:03}{:04}", (head * 7) % 1000, rng.random_range(0..10_000));
    Residence {
        muni,
        postal,
        town,
        chome: rng.random_range(1..=5),
        ban: rng.random_range(1..=30),
        go: rng.random_range(1..=25),
        clinic: w.registry.pick(pref, ProviderKind::Clinic, rng),
        hospital: w.registry.pick(pref, ProviderKind::Hospital, rng),
        checkup: w.registry.pick(pref, ProviderKind::CheckupCentre, rng),
        care: w.registry.pick(pref, ProviderKind::CareProvider, rng),
    }
}

fn pref_of(w: &World<'_>, r: &Residence) -> usize {
    w.refdata
        .municipalities
        .get(r.muni)
        .map(|m| m.pref)
        .unwrap_or(0)
}

fn new_card(w: &World<'_>, rng: &mut impl Rng, scheme: Scheme, r: &Residence) -> Card {
    let pref = pref_of(w, r);
    let pcode = w
        .refdata
        .prefectures
        .get(pref)
        .map(|p| p.code)
        .unwrap_or(13);
    let city3: u32 = w
        .refdata
        .municipalities
        .get(r.muni)
        .and_then(|m| m.code.get(2..5))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let variant = match scheme {
        Scheme::Kokuho => city3,
        _ => rng.random_range(0..60),
    };
    let (symbol, number) = match scheme {
        Scheme::Kyokai => (
            Some(digits(rng, 8)),
            rng.random_range(1..10_000u32).to_string(),
        ),
        Scheme::Kumiai => (
            Some(rng.random_range(1..1000u32).to_string()),
            rng.random_range(1..100_000u32).to_string(),
        ),
        Scheme::Kyosai => (Some(digits(rng, 5)), digits(rng, 6)),
        Scheme::Kokuho => (
            Some(format!("{:02}", rng.random_range(1..100u32))),
            digits(rng, 7),
        ),
        Scheme::Koki => (None, digits(rng, 8)),
    };
    Card {
        scheme,
        insurer: insurer_number(scheme, pcode, variant),
        symbol,
        number,
        branch: "00".into(),
    }
}

fn employee_scheme(rng: &mut impl Rng) -> Scheme {
    let u: f64 = rng.random();
    if u < 0.55 {
        Scheme::Kyokai
    } else if u < 0.80 {
        Scheme::Kumiai
    } else if u < 0.88 {
        Scheme::Kyosai
    } else {
        Scheme::Kokuho
    }
}

fn primary(w: &World<'_>, rng: &mut ChaCha8Rng, ordinal: u64) -> Person {
    let decedent = chance(rng, pop::DECEDENT_SHARE);
    let (birth, sex, deceased_on) = if decedent {
        let b = w.death_ages.pick(rng);
        let (lo, _, fem) = pop::DEATH_AGE.get(b).copied().unwrap_or((80, 0.0, 0.5));
        let hi = pop::DEATH_AGE.get(b + 1).map(|x| x.0).unwrap_or(lo + 5);
        let age = rng.random_range(lo..hi);
        let death = date_between(rng, add_years(w.as_of, -pop::DEATH_WINDOW_YEARS), w.as_of);
        let birth = add_days(add_years(death, -age), -rng.random_range(0..365));
        let sex = if chance(rng, fem) {
            Sex::Female
        } else {
            Sex::Male
        };
        (birth, sex, Some(death))
    } else {
        let b = w.pyramid_adult.pick(rng);
        let (lo, _, fem) = pop::PYRAMID.get(b).copied().unwrap_or((40, 0.0, 0.5));
        let age = rng.random_range(lo..lo + 5);
        let birth = add_days(add_years(w.as_of, -age), -rng.random_range(0..365));
        let sex = if chance(rng, fem) {
            Sex::Female
        } else {
            Sex::Male
        };
        (birth, sex, None)
    };
    let end = deceased_on.unwrap_or(w.as_of);
    let pref = w.refdata.pref_weights.pick(rng);
    let home = new_residence(w, rng, pref);
    let family = pick_family(w, rng);
    let given = pick_given(w, rng, sex, birth);
    let origin = birth.min(w.birth_start);
    let mut p = Person {
        ordinal,
        sex,
        birth,
        deceased_on,
        twin_of: None,
        families: vec![(origin, family)],
        given,
        residences: vec![(origin, home)],
        cards: Vec::new(),
        contacts: BTreeMap::new(),
    };
    // Marriage: a surname change for some women married at 25–40 inside the window.
    let mut marriage = None;
    if sex == Sex::Female {
        let m = add_days(
            add_years(birth, rng.random_range(25..=40)),
            rng.random_range(0..365),
        );
        if m > w.birth_start && m <= end && chance(rng, 0.35) {
            let mut new = pick_family(w, rng);
            if p.families.first().map(|f| &f.1.kanji) == Some(&new.kanji) {
                new = pick_family(w, rng);
            }
            p.families.push((m, new));
            marriage = Some(m);
            if chance(rng, 0.5) {
                let np = if chance(rng, 0.8) {
                    pref
                } else {
                    w.refdata.pref_weights.pick(rng)
                };
                let r = new_residence(w, rng, np);
                p.residences.push((m, r));
            }
        }
    }
    // A move inside the clinical window for some adults.
    if age_at(birth, end) >= 20 && chance(rng, 0.12) {
        let d = date_between(rng, w.data_start, end);
        if p.residences.last().map(|r| r.0 < d).unwrap_or(true) {
            let np = if chance(rng, 0.7) {
                pref
            } else {
                w.refdata.pref_weights.pick(rng)
            };
            let r = new_residence(w, rng, np);
            p.residences.push((d, r));
        }
    }
    // Insurance history from the window start.
    let start = origin.max(birth);
    let age0 = age_at(birth, start);
    let retire_age = rng.random_range(60..=65);
    let r0 = p.residence_at(start).cloned();
    if let Some(r0) = r0 {
        let scheme0 = if age0 >= 75 {
            Scheme::Koki
        } else if age0 >= retire_age {
            Scheme::Kokuho
        } else {
            employee_scheme(rng)
        };
        let c0 = new_card(w, rng, scheme0, &r0);
        p.cards.push((start, c0));
    }
    let mut changes: Vec<(NaiveDate, Option<Scheme>)> = Vec::new();
    if chance(rng, 0.10) {
        changes.push((date_between(rng, start, end), None)); // job change
    }
    if let Some(m) = marriage
        && chance(rng, 0.3)
    {
        changes.push((m, None));
    }
    let retire = add_years(birth, retire_age);
    if retire > start && retire <= end && chance(rng, 0.7) {
        changes.push((retire, Some(Scheme::Kokuho)));
    }
    let koki = add_years(birth, 75);
    if koki > start && koki <= end {
        changes.push((koki, Some(Scheme::Koki)));
    }
    // Moving changes a 国保 or 後期高齢者 card (insurers are per municipality / prefecture).
    for (d, _) in p.residences.iter().skip(1) {
        changes.push((*d, Some(Scheme::Kokuho)));
    }
    changes.sort_by_key(|a| a.0);
    for (d, scheme) in changes {
        let Some(cur) = p.card_at(d).cloned() else {
            continue;
        };
        let age = age_at(birth, d);
        let scheme = match scheme {
            Some(Scheme::Kokuho) if cur.scheme == Scheme::Koki => Scheme::Koki,
            Some(Scheme::Kokuho) if cur.scheme != Scheme::Kokuho && age < retire_age => {
                // A move alone keeps an employee card.
                if p.residences.iter().any(|r| r.0 == d) {
                    continue;
                }
                Scheme::Kokuho
            }
            Some(s) => s,
            None if age >= 75 => continue,
            None => employee_scheme(rng),
        };
        let Some(r) = p.residence_at(d).cloned() else {
            continue;
        };
        let c = new_card(w, rng, scheme, &r);
        if c != cur {
            p.cards.push((d, c));
        }
    }
    p
}

/// A birth of the mother, for creating the baby persons.
#[derive(Debug, Clone)]
pub(crate) struct BirthSpec {
    date: NaiveDate,
    twins: bool,
}

fn baby(
    w: &World<'_>,
    rng: &mut ChaCha8Rng,
    mother: &Person,
    b: &BirthSpec,
    ordinal: u64,
    child_no: u32,
) -> Person {
    let sex = if chance(rng, 0.512) {
        Sex::Male
    } else {
        Sex::Female
    };
    let family = mother
        .family_at(b.date)
        .cloned()
        .unwrap_or_else(|| pick_family(w, rng));
    let given = pick_given(w, rng, sex, b.date);
    let residences: Vec<(NaiveDate, Residence)> = mother
        .residences
        .iter()
        .filter(|(d, _)| *d > b.date)
        .cloned()
        .collect();
    let first = mother.residence_at(b.date).cloned();
    let mut p = Person {
        ordinal,
        sex,
        birth: b.date,
        deceased_on: None,
        twin_of: None,
        families: vec![(b.date, family)],
        given,
        residences: first
            .map(|r| (b.date, r))
            .into_iter()
            .chain(residences)
            .collect(),
        cards: Vec::new(),
        contacts: BTreeMap::new(),
    };
    let branch = format!("{:02}", child_no + 1);
    let first_card = mother.card_at(b.date).cloned();
    let later = mother.cards.iter().filter(|(d, _)| *d > b.date).cloned();
    p.cards = first_card
        .map(|c| (b.date, c))
        .into_iter()
        .chain(later)
        .map(|(d, mut c)| {
            c.branch.clone_from(&branch);
            (d, c)
        })
        .collect();
    p
}

/// Adds every event of a person's lifecourse; returns the births (for mothers).
fn events_for(w: &World<'_>, rng: &mut ChaCha8Rng, p: &mut Person, adult: bool) -> Vec<BirthSpec> {
    let end = p.end(w.as_of);
    let age_end = age_at(p.birth, end);
    let male = p.sex == Sex::Male;
    let mut births = Vec::new();

    // Conditions with onset dates.
    let mut conds: Vec<(Condition, NaiveDate)> = Vec::new();
    let long_onset = |rng: &mut ChaCha8Rng, min_age: i32| {
        let lo = add_years(p.birth, min_age).min(end);
        date_between(rng, lo, end)
    };
    if chance(rng, pop::p_hypertension(age_end)) {
        conds.push((Condition::Hypertension, long_onset(rng, 30)));
    }
    if chance(rng, pop::p_diabetes(age_end, male)) {
        conds.push((Condition::Diabetes, long_onset(rng, 30)));
    }
    if chance(rng, pop::p_dyslipidaemia(age_end)) {
        conds.push((Condition::Dyslipidaemia, long_onset(rng, 30)));
    }
    let cancer_p = if p.deceased_on.is_some() {
        0.3
    } else {
        pop::p_cancer(age_end)
    };
    if chance(rng, cancer_p) {
        let options: &[(Condition, f64)] = if male {
            &[
                (Condition::StomachCancer, 2.0),
                (Condition::ColonCancer, 1.6),
                (Condition::LungCancer, 2.2),
                (
                    Condition::ProstateCancer,
                    if age_end >= 55 { 2.0 } else { 0.0 },
                ),
            ]
        } else {
            &[
                (Condition::StomachCancer, 0.9),
                (Condition::ColonCancer, 1.3),
                (Condition::LungCancer, 0.8),
                (Condition::BreastCancer, 2.5),
            ]
        };
        let wt = Weighted::new(options.iter().map(|o| o.1));
        if let Some((c, _)) = options.get(wt.pick(rng)) {
            let onset = date_between(rng, add_years(end, -5).max(p.birth), end);
            conds.push((*c, onset));
        }
    }
    if chance(rng, pop::p_dementia(age_end)) {
        conds.push((
            Condition::Dementia,
            date_between(rng, add_years(end, -5), end),
        ));
    }
    if age_end >= 50 && chance(rng, 0.0005) {
        conds.push((Condition::Als, date_between(rng, add_years(end, -4), end)));
    }
    if chance(rng, 0.0002) {
        conds.push((Condition::Gaucher, long_onset(rng, 1)));
    }
    if male && chance(rng, 0.0002) {
        conds.push((Condition::Haemophilia, long_onset(rng, 0)));
    }
    if chance(rng, if age_end < 15 { 0.06 } else { 0.04 }) {
        conds.push((Condition::Asthma, long_onset(rng, 2)));
    }
    let has = |c: Condition| conds.iter().any(|x| x.0 == c);
    let diabetic = has(Condition::Diabetes);
    let hypertensive = has(Condition::Hypertension);
    let dyslip = has(Condition::Dyslipidaemia);

    // Chronic clinic care: visits every 3–6 months, prescriptions per active condition.
    let clinic_conds: Vec<(Condition, NaiveDate)> =
        conds.iter().filter(|c| !c.0.hospital()).copied().collect();
    let extra_drug: BTreeMap<Condition, bool> = clinic_conds
        .iter()
        .map(|c| (c.0, chance(rng, 0.25)))
        .collect();
    if let Some(first) = clinic_conds.iter().map(|c| c.1).min() {
        let mut d = first.max(w.data_start);
        let mut seen: BTreeMap<(ProviderKey, Condition), bool> = BTreeMap::new();
        let mut first_at: BTreeMap<ProviderKey, bool> = BTreeMap::new();
        let cut = add_days(w.as_of, -180);
        while d <= end {
            let Some(r) = p.residence_at(d).cloned() else {
                break;
            };
            let key = ProviderKey::Medical(r.clinic);
            p.add(key, ev(EventKind::Encounter(EncounterClass::Outpatient), d));
            if first_at.insert(key, true).is_none() {
                p.add(
                    key,
                    coded(
                        EventKind::Procedure,
                        d,
                        CodeSystem::ReceiptProcedure,
                        codes::procedure::FIRST_VISIT,
                    ),
                );
            }
            for (c, onset) in &clinic_conds {
                if *onset > d {
                    continue;
                }
                let after_cut = d >= cut;
                if seen
                    .insert((key, *c), after_cut)
                    .is_none_or(|was| !was && after_cut)
                {
                    p.add(
                        key,
                        coded(EventKind::Diagnosis, d, CodeSystem::Icd10, c.icd10()),
                    );
                }
                let drugs = c.drugs();
                let n = if extra_drug.get(c).copied().unwrap_or(false) {
                    2
                } else {
                    1
                };
                for yj in drugs.iter().take(n) {
                    let days = [28.0, 30.0, 56.0, 90.0][rng.random_range(0..4)];
                    let mut e = coded(EventKind::Prescription, d, CodeSystem::Yj, yj);
                    e.value = Some(days);
                    e.unit = Some("d".into());
                    e.end_date = Some(add_days(d, days as i64));
                    dispense(w, p, &r, &e, end);
                    p.add(key, e);
                }
            }
            d = add_days(d, rng.random_range(120..=240));
        }
    }

    // Hospital conditions: admission at diagnosis for cancers, follow-ups with labs.
    for (c, onset) in conds.iter().filter(|c| c.0.hospital()) {
        let start = (*onset).max(w.data_start);
        if start > end {
            continue;
        }
        let Some(r) = p.residence_at(start).cloned() else {
            continue;
        };
        let key = ProviderKey::Medical(r.hospital);
        p.add(
            key,
            coded(EventKind::Diagnosis, start, CodeSystem::Icd10, c.icd10()),
        );
        if c.cancer() && *onset >= w.data_start {
            let adm = add_days(*onset, rng.random_range(3..=14)).min(end);
            let mut stay = ev(EventKind::Encounter(EncounterClass::Inpatient), adm);
            stay.end_date = Some(add_days(adm, rng.random_range(5..=20)).min(end));
            p.add(key, stay);
            p.add(
                key,
                coded(
                    EventKind::Procedure,
                    adm,
                    CodeSystem::ReceiptProcedure,
                    codes::procedure::XRAY,
                ),
            );
        }
        let mut d = add_days(start, rng.random_range(30..=90));
        for _ in 0..6 {
            if d > end {
                break;
            }
            p.add(key, ev(EventKind::Encounter(EncounterClass::Outpatient), d));
            let ast = round_to(normal(rng, 24.0, 7.0).max(8.0), 0);
            let alt = round_to(normal(rng, if male { 24.0 } else { 18.0 }, 9.0).max(5.0), 0);
            p.add(
                key,
                measured(EventKind::LabResult, d, CodeSystem::Jlac10, codes::AST, ast),
            );
            p.add(
                key,
                measured(EventKind::LabResult, d, CodeSystem::Jlac10, codes::ALT, alt),
            );
            if diabetic {
                let a1c = round_to(normal(rng, 7.2, 0.8).max(6.0), 1);
                p.add(
                    key,
                    measured(
                        EventKind::LabResult,
                        d,
                        CodeSystem::Jlac10,
                        codes::HBA1C,
                        a1c,
                    ),
                );
            }
            d = add_days(d, rng.random_range(60..=150));
        }
    }

    // Emergency: hip fracture in the old.
    if age_end >= 75 && chance(rng, 0.04) {
        let d = date_between(rng, w.data_start.max(add_years(p.birth, 75)), end);
        if let Some(r) = p.residence_at(d).cloned() {
            let key = ProviderKey::Medical(r.hospital);
            p.add(key, ev(EventKind::Encounter(EncounterClass::Emergency), d));
            let mut stay = ev(EventKind::Encounter(EncounterClass::Inpatient), d);
            stay.end_date = Some(add_days(d, rng.random_range(14..=40)).min(end));
            p.add(key, stay);
            p.add(
                key,
                coded(EventKind::Diagnosis, d, CodeSystem::Icd10, "S72.0"),
            );
            p.add(
                key,
                coded(
                    EventKind::Procedure,
                    d,
                    CodeSystem::ReceiptProcedure,
                    codes::procedure::XRAY,
                ),
            );
        }
    }

    // Acute episodes at the clinic.
    let n_acute = if age_end < 15 {
        [0, 1, 1, 2, 3][rng.random_range(0..5)]
    } else {
        [0, 0, 1, 1, 2][rng.random_range(0..5)]
    };
    for _ in 0..n_acute {
        let d = date_between(rng, w.data_start.max(p.birth), end);
        let Some(r) = p.residence_at(d).cloned() else {
            continue;
        };
        let key = ProviderKey::Medical(r.clinic);
        let Some((icd, drug, _)) = codes::ACUTE.get(w.acute.pick(rng)).copied() else {
            continue;
        };
        p.add(key, ev(EventKind::Encounter(EncounterClass::Outpatient), d));
        p.add(key, coded(EventKind::Diagnosis, d, CodeSystem::Icd10, icd));
        if let Some(yj) = drug {
            let mut e = coded(EventKind::Prescription, d, CodeSystem::Yj, yj);
            e.value = Some(7.0);
            e.unit = Some("d".into());
            e.end_date = Some(add_days(d, 7));
            dispense(w, p, &r, &e, end);
            p.add(key, e);
            p.add(
                key,
                coded(
                    EventKind::Procedure,
                    d,
                    CodeSystem::ReceiptProcedure,
                    codes::procedure::PRESCRIPTION_FEE,
                ),
            );
        }
    }

    // 特定健診 at ages 40–74, yearly-ish over the last three years.
    let bmi0 = normal(rng, 22.8 + if diabetic { 2.0 } else { 0.0 }, 3.0).clamp(16.0, 40.0);
    let ldl0 = normal(rng, 118.0 + if dyslip { 28.0 } else { 0.0 }, 25.0).clamp(50.0, 250.0);
    let hdl0 = normal(rng, if male { 55.0 } else { 66.0 }, 12.0).clamp(25.0, 120.0);
    for k in 0..3 {
        let d = add_days(add_years(w.as_of, -k), -rng.random_range(0..300));
        let age = age_at(p.birth, d);
        if d > end || d < w.data_start || !(40..=74).contains(&age) || !chance(rng, 0.62) {
            continue;
        }
        let Some(r) = p.residence_at(d).cloned() else {
            continue;
        };
        let key = ProviderKey::Medical(r.checkup);
        let a = f64::from(age - 40);
        let sbp = normal(
            rng,
            112.0 + 0.55 * a + if hypertensive { 18.0 } else { 0.0 },
            11.0,
        );
        let dbp = normal(
            rng,
            70.0 + 0.2 * a + if hypertensive { 9.0 } else { 0.0 },
            8.0,
        );
        let a1c = if diabetic {
            normal(rng, 7.2, 0.7).max(6.0)
        } else {
            normal(rng, 5.45 + 0.006 * a, 0.28).clamp(4.4, 6.4)
        };
        let tg = normal(
            rng,
            105.0 + if dyslip { 45.0 } else { 0.0 } + if male { 25.0 } else { 0.0 },
            40.0,
        )
        .max(30.0);
        let items = [
            (codes::BMI, round_to(normal(rng, bmi0, 0.5), 1)),
            (codes::SBP, sbp.round().clamp(85.0, 210.0)),
            (codes::DBP, dbp.round().clamp(45.0, 130.0)),
            (codes::HBA1C, round_to(a1c, 1)),
            (codes::LDL, normal(rng, ldl0, 8.0).round()),
            (codes::HDL, normal(rng, hdl0, 4.0).round()),
            (codes::TG, tg.round()),
            (codes::AST, normal(rng, 23.0, 6.0).max(8.0).round()),
            (
                codes::ALT,
                normal(rng, if male { 24.0 } else { 17.0 }, 9.0)
                    .max(5.0)
                    .round(),
            ),
            (
                codes::GGT,
                normal(rng, if male { 42.0 } else { 22.0 }, 18.0)
                    .max(8.0)
                    .round(),
            ),
        ];
        for (item, v) in items {
            p.add(
                key,
                measured(EventKind::Checkup, d, CodeSystem::KenshinItem, item, v),
            );
        }
    }

    // Long-term care from 65.
    let care_p = pop::p_care(age_end) + if has(Condition::Dementia) { 0.4 } else { 0.0 };
    if age_end >= 65 && chance(rng, care_p.min(0.95)) {
        let lo = add_years(p.birth, 65).max(add_years(w.data_start, -2));
        let cert = date_between(rng, lo, end);
        let shown = cert.max(w.data_start);
        if let Some(r) = p.residence_at(shown).cloned() {
            let key = ProviderKey::Medical(r.care);
            let sev = ((age_end - 65) as f64 / 30.0).clamp(0.0, 1.0);
            let lvl = ((rng.random::<f64>() * 4.0) + sev * 3.0).floor() as usize;
            let lvl = codes::CARE_LEVELS.get(lvl.min(6)).copied().unwrap_or("K1");
            p.add(
                key,
                coded(
                    EventKind::CareCertification,
                    shown,
                    CodeSystem::CareLevel,
                    lvl,
                ),
            );
            let (svc, units) = codes::CARE_SERVICES
                .get(rng.random_range(0..codes::CARE_SERVICES.len()))
                .copied()
                .unwrap_or(("111111", 2500.0));
            let mut m = add_months(end, -5).max(shown);
            m = NaiveDate::from_ymd_opt(m.year(), m.month(), 1).unwrap_or(m);
            while m <= end {
                let mut e = coded(EventKind::CareService, m, CodeSystem::CareService, svc);
                e.value = Some((units * normal(rng, 1.0, 0.2).clamp(0.3, 2.0)).round());
                e.unit = Some("単位".into());
                p.add(key, e);
                m = add_months(m, 1);
            }
        }
    }

    // Pregnancies and births (women 20–45 in the birth window).
    if adult && p.sex == Sex::Female {
        let mut last: Option<NaiveDate> = None;
        let mut y = w.birth_start;
        while y <= end {
            let age = age_at(p.birth, y);
            if chance(rng, pop::fertility(age)) {
                let b = add_days(y, rng.random_range(0..365)).min(end);
                if last.is_none_or(|l| b > add_days(l, 400)) && b > w.birth_start {
                    last = Some(b);
                    let twins = chance(rng, pop::TWIN_SHARE);
                    if let Some(r) = p.residence_at(b).cloned() {
                        let key = ProviderKey::Municipality(r.muni);
                        for week in [12, 24, 36] {
                            let d = add_days(b, -(40 - week) * 7);
                            if d > w.birth_start {
                                let mut e = coded(
                                    EventKind::PregnancyCheckup,
                                    d,
                                    CodeSystem::Other(codes::NINPU_ITEM_SYSTEM.into()),
                                    codes::NINPU_GESTATION_WEEKS,
                                );
                                e.value = Some(f64::from(week as i32));
                                e.unit = Some("wk".into());
                                p.add(key, e);
                            }
                        }
                        for _ in 0..if twins { 2 } else { 1 } {
                            let mut e = ev(EventKind::Birth, b);
                            e.value = Some(
                                normal(rng, if twins { 2400.0 } else { 3000.0 }, 350.0).round(),
                            );
                            e.unit = Some("g".into());
                            p.add(key, e);
                        }
                    }
                    births.push(BirthSpec { date: b, twins });
                }
            }
            y = add_years(y, 1);
        }
    }

    // Infant checkups at the municipality (4か月, 1歳6か月, 3歳): height and weight, as the
    // municipal 乳幼児健診 export writes them.
    if p.birth > w.birth_start {
        // Heights from their own stream, so the draws of everything else stay as they were.
        let mut hrng = rng_for(w.seed, &[0x1afa, p.ordinal]);
        for (months, cm, kg) in [(4, 63.0, 6.6), (18, 80.5, 10.4), (36, 93.5, 14.0)] {
            let d = add_days(add_months(p.birth, months), rng.random_range(0..20));
            let height = round_to(normal(&mut hrng, cm, cm * 0.035), 1);
            if d > end {
                continue;
            }
            let Some(r) = p.residence_at(d).cloned() else {
                continue;
            };
            let weight = round_to(normal(rng, kg, kg * 0.08), 1);
            let key = ProviderKey::Municipality(r.muni);
            let system = CodeSystem::Other(codes::INFANT_ITEM_SYSTEM.into());
            for (item, value, unit) in [
                (codes::INFANT_HEIGHT, height, "cm"),
                (codes::INFANT_WEIGHT, weight, "kg"),
            ] {
                let mut e = coded(EventKind::InfantCheckup, d, system.clone(), item);
                e.value = Some(value);
                e.unit = Some(unit.into());
                p.add(key, e);
            }
        }
    }

    // Routine vaccinations (定期接種) recorded in the municipality's 予防接種台帳: the infant
    // schedule, and the pneumococcal vaccine (PPSV23) offered at 65. Drawn from their own
    // stream.
    let mut vrng = rng_for(w.seed, &[0x7acc, p.ordinal]);
    let mut doses: Vec<(NaiveDate, &str, u32)> = Vec::new();
    if p.birth > w.birth_start {
        for (vaccine, schedule) in codes::INFANT_VACCINES {
            for (dose, months) in schedule.iter().enumerate() {
                let d = add_days(
                    add_months(p.birth, i32::try_from(*months).unwrap_or(0)),
                    vrng.random_range(0..25),
                );
                doses.push((d, vaccine, dose as u32 + 1));
            }
        }
    }
    let at65 = add_years(p.birth, 65);
    if at65 >= w.data_start && chance(&mut vrng, 0.35) {
        let d = add_days(at65, vrng.random_range(0..300));
        doses.push((d, codes::PPSV23, 1));
    }
    doses.sort();
    for (d, vaccine, dose) in doses {
        if d > end {
            continue;
        }
        let Some(r) = p.residence_at(d).cloned() else {
            continue;
        };
        let mut e = coded(EventKind::Immunization, d, CodeSystem::Vaccine, vaccine);
        e.value = Some(f64::from(dose));
        e.unit = Some("回".into());
        p.add(ProviderKey::Municipality(r.muni), e);
    }

    // Death: registered by the municipality; most die in hospital.
    if let Some(dd) = p.deceased_on
        && let Some(r) = p.residence_at(dd).cloned()
    {
        p.add(ProviderKey::Municipality(r.muni), ev(EventKind::Death, dd));
        if chance(rng, 0.65) {
            let key = ProviderKey::Medical(r.hospital);
            let mut stay = ev(
                EventKind::Encounter(EncounterClass::Inpatient),
                add_days(dd, -rng.random_range(2..30)),
            );
            stay.end_date = Some(dd);
            p.add(key, stay);
            p.add(key, ev(EventKind::Death, dd));
        }
    }

    // Everyone is seen somewhere at least once.
    if p.contacts.values().all(Vec::is_empty) {
        let d = date_between(rng, w.data_start.max(p.birth), end);
        if let Some(r) = p.residence_at(d).cloned() {
            let key = ProviderKey::Medical(r.clinic);
            p.add(key, ev(EventKind::Encounter(EncounterClass::Outpatient), d));
            p.add(
                key,
                coded(EventKind::Diagnosis, d, CodeSystem::Icd10, "J06.9"),
            );
        }
    }
    births
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world_fixture() -> (RefData, NaiveDate) {
        let r = RefData::load().unwrap_or_else(|e| unreachable!("{e}"));
        (r, NaiveDate::from_ymd_opt(2025, 4, 1).unwrap_or_default())
    }

    #[test]
    fn units_are_deterministic_and_diabetics_have_high_hba1c() {
        let (refdata, as_of) = world_fixture();
        let registry = Registry::build(3, 3000, &refdata);
        let w = World::new(3, as_of, &refdata, &registry);
        let (mut high, mut total, mut twins) = (0, 0, 0);
        for unit in 0..3000 {
            let a = generate_unit(&w, unit, unit * 10, 10);
            let b = generate_unit(&w, unit, unit * 10, 10);
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(
                    (x.birth, x.sex, &x.given.kanji),
                    (y.birth, y.sex, &y.given.kanji)
                );
                assert_eq!(x.contacts, y.contacts);
            }
            for p in &a {
                if let Some(t) = p.twin_of {
                    twins += 1;
                    let other = a.iter().find(|q| q.ordinal == t);
                    let other = other.unwrap_or_else(|| unreachable!("twin in unit"));
                    assert_eq!(p.birth, other.birth);
                    assert_ne!(p.given.kanji, other.given.kanji);
                    assert_eq!(p.family_at(p.birth), other.family_at(other.birth));
                    let (c1, c2) = (p.card_at(p.birth), other.card_at(other.birth));
                    let (c1, c2) = (
                        c1.cloned().unwrap_or_else(|| unreachable!()),
                        c2.cloned().unwrap_or_else(|| unreachable!()),
                    );
                    assert_eq!(
                        (&c1.insurer, &c1.symbol, &c1.number),
                        (&c2.insurer, &c2.symbol, &c2.number)
                    );
                    assert_ne!(c1.branch, c2.branch);
                    assert_eq!(p.residence_at(p.birth), other.residence_at(other.birth));
                }
                let all: Vec<&Event> = p.contacts.values().flatten().collect();
                let diabetic = all.iter().any(|e| {
                    e.code
                        .as_ref()
                        .is_some_and(|c| c.system == CodeSystem::Icd10 && c.value == "E11")
                });
                for e in &all {
                    assert!(e.date <= as_of, "no event after as_of");
                    if diabetic
                        && e.kind == EventKind::Checkup
                        && e.code
                            .as_ref()
                            .is_some_and(|c| c.value == codes::HBA1C.code)
                    {
                        total += 1;
                        if e.value.unwrap_or(0.0) >= 6.5 {
                            high += 1;
                        }
                    }
                }
            }
        }
        assert!(total > 20, "diabetic checkups: {total}");
        assert!(f64::from(high) / f64::from(total) > 0.75, "{high}/{total}");
        assert!(twins >= 2, "twins: {twins}");
    }
}
