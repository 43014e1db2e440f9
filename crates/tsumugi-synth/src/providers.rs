//! The provider registry: hospitals, clinics, pharmacies, checkup centres and care providers
//! per prefecture (counts scale with the population), plus the municipalities people live in.
//!
//! Medical provider ids are 10 digits like a 医療機関コード: 都道府県番号 (2) + 点数表番号 (1: 医科,
//! 4: 調剤) + 郡市区番号 (2) + 医療機関番号 (4) + 検証番号 (1, same 2-1 rule as insurer numbers).
//! Checkup centres use 点数表 digit 1 too (most are medical institutions); care providers use
//! digit 7 (an illustrative 介護事業所番号 shape). A municipality's id is its 6-digit
//! 全国地方公共団体コード behind the prefix `0000`.

use rand::Rng;
use tsumugi_model::{ProviderId, ProviderKind};

use crate::insurer::with_check_digit;
use crate::refdata::RefData;
use crate::sample::{mix, rng_for};

/// The prefix that pads a 6-digit 地方公共団体コード to a 10-digit provider id.
pub const MUNICIPALITY_PREFIX: &str = "0000";

/// The provider id of a municipality with the given 6-digit code.
pub fn municipality_provider_id(code: &str) -> ProviderId {
    ProviderId(format!("{MUNICIPALITY_PREFIX}{code}"))
}

/// One provider.
#[derive(Debug, Clone)]
pub(crate) struct Provider {
    pub id: ProviderId,
    pub kind: ProviderKind,
    pub name: String,
    pub municipality: usize,
    /// How this provider formats its patient ids (0..5).
    pub id_style: u8,
}

/// Medical providers, indexed by prefecture and kind.
#[derive(Debug, Clone)]
pub(crate) struct Registry {
    pub providers: Vec<Provider>,
    /// `by_pref[pref][kind_slot]` = provider indices; slots follow [`SLOTS`].
    pub by_pref: Vec<[Vec<usize>; 5]>,
}

/// The kinds placed per prefecture, in slot order.
pub(crate) const SLOTS: [ProviderKind; 5] = [
    ProviderKind::Hospital,
    ProviderKind::Clinic,
    ProviderKind::Pharmacy,
    ProviderKind::CheckupCentre,
    ProviderKind::CareProvider,
];

/// Persons per provider of each slot, and the minimum per prefecture.
const PER: [(f64, usize); 5] = [
    (2500.0, 1),
    (600.0, 2),
    (1500.0, 1),
    (8000.0, 1),
    (3000.0, 1),
];

fn slot_digit(kind: ProviderKind) -> u8 {
    match kind {
        ProviderKind::Pharmacy => 4,
        ProviderKind::CareProvider => 7,
        _ => 1,
    }
}

impl Registry {
    /// Builds the registry for a run; deterministic in `(seed, persons)`.
    pub(crate) fn build(seed: u64, persons: u64, refdata: &RefData) -> Registry {
        let total_pop: f64 = (1..=refdata.prefectures.len())
            .map(|p| refdata_pop_share(refdata, p - 1))
            .sum();
        let mut providers = Vec::new();
        let mut by_pref = Vec::with_capacity(refdata.prefectures.len());
        for (p, pref) in refdata.prefectures.iter().enumerate() {
            let share = refdata_pop_share(refdata, p) / total_pop.max(f64::MIN_POSITIVE);
            let expected = share * persons as f64;
            let mut slots: [Vec<usize>; 5] = Default::default();
            // Serial numbers are unique per (prefecture, 点数表 digit).
            let mut serial = [0u32; 10];
            for (s, kind) in SLOTS.iter().enumerate() {
                let (per, min) = PER.get(s).copied().unwrap_or((1000.0, 1));
                let n = ((expected / per).round() as usize).max(min);
                for k in 0..n {
                    let mut rng = rng_for(seed, &[0x9e0, p as u64, s as u64, k as u64]);
                    let digit = slot_digit(*kind);
                    let sn = serial.get_mut(usize::from(digit)).map(|x| {
                        *x += 1;
                        *x
                    });
                    let sn = sn.unwrap_or(0);
                    let district =
                        1 + (mix(seed, &[p as u64, u64::from(digit), u64::from(sn)]) % 60);
                    let number = 1000 + sn;
                    let body = format!("{district:02}{number:04}");
                    let id = format!("{:02}{digit}{}", pref.code, with_check_digit(&body));
                    let muni_slot = pref.muni_weights.pick(&mut rng);
                    let municipality = pref.munis.get(muni_slot).copied().unwrap_or(0);
                    let name = provider_name(*kind, municipality, k, &mut rng, refdata);
                    if let Some(v) = slots.get_mut(s) {
                        v.push(providers.len())
                    }
                    providers.push(Provider {
                        id: ProviderId(id),
                        kind: *kind,
                        name,
                        municipality,
                        id_style: rng.random_range(0..5),
                    });
                }
            }
            by_pref.push(slots);
        }
        Registry { providers, by_pref }
    }

    /// Picks a provider of `kind` in prefecture `pref` (falls back to any prefecture's first).
    pub(crate) fn pick(&self, pref: usize, kind: ProviderKind, rng: &mut impl Rng) -> usize {
        let s = SLOTS.iter().position(|k| *k == kind).unwrap_or(0);
        let list = self
            .by_pref
            .get(pref)
            .and_then(|slots| slots.get(s))
            .filter(|l| !l.is_empty())
            .or_else(|| {
                self.by_pref
                    .iter()
                    .find_map(|sl| sl.get(s).filter(|l| !l.is_empty()))
            });
        match list {
            Some(l) => l.get(rng.random_range(0..l.len())).copied().unwrap_or(0),
            None => 0,
        }
    }
}

fn refdata_pop_share(refdata: &RefData, p: usize) -> f64 {
    refdata.pref_weights.weight(p)
}

fn provider_name(
    kind: ProviderKind,
    municipality: usize,
    k: usize,
    rng: &mut impl Rng,
    refdata: &RefData,
) -> String {
    let muni = refdata
        .municipalities
        .get(municipality)
        .map(|m| m.name.as_str())
        .unwrap_or("");
    let town = refdata
        .towns
        .get(rng.random_range(0..refdata.towns.len().max(1)))
        .map(String::as_str)
        .unwrap_or("");
    let family = refdata
        .families
        .pick(rng)
        .map(|n| n.kanji.as_str())
        .unwrap_or("");
    match kind {
        ProviderKind::Hospital if k == 0 => format!("{muni}立総合病院"),
        ProviderKind::Hospital => format!("{town}記念病院"),
        ProviderKind::Clinic => match k % 3 {
            0 => format!("{family}内科クリニック"),
            1 => format!("{town}医院"),
            _ => format!("{family}ファミリークリニック"),
        },
        ProviderKind::Pharmacy => format!("{town}薬局"),
        ProviderKind::CheckupCentre => format!("{muni}健診センター"),
        ProviderKind::CareProvider => format!("{town}ケアセンター"),
        ProviderKind::Municipality => muni.to_owned(),
    }
}

/// A patient id as `provider` would issue it for its `serial`-th patient.
pub(crate) fn patient_id(provider: &Provider, serial: u64, seed: u64) -> String {
    // Scramble the serial so ids do not reveal arrival order (a bijection on 0..10^8).
    let scrambled = (serial.wrapping_mul(7_919) + mix(seed, &[serial >> 32]) % 13) % 100_000_000;
    match provider.kind {
        ProviderKind::Municipality => format!("{:010}", 3_000_000_000u64 + serial * 7 + 1),
        ProviderKind::CareProvider => format!("{:010}", 1_000_000_000u64 + serial * 3 + 1),
        ProviderKind::CheckupCentre => format!("K{:09}", serial * 11 + 5),
        _ => match provider.id_style {
            0 => format!("{:08}", serial + 1),
            1 => format!("{scrambled:08}"),
            2 => format!("P-{:06}", serial + 100_001),
            3 => format!("{:010}", 2_000_000_000u64 + serial * 13),
            _ => format!("ID{:07}", serial + 1),
        },
    }
}
