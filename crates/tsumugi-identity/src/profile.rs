//! Person profiles: the few non-identifying attributes the research store needs, derived inside
//! the identity zone so identifiers never leave it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use sqlx::Row;
use tsumugi_model::{Date, Sex};
use tsumugi_store::PersonRow;

use crate::sealed::AddressJ;
use crate::{Error, Result, Vault};

#[derive(Default)]
struct Votes {
    sex: BTreeMap<Sex, u32>,
    birth_month: BTreeMap<Date, u32>,
    /// (record key, municipality): the latest record's municipality wins.
    municipality: Option<(i64, String)>,
    deceased_on: Option<Date>,
}

impl Vault {
    /// Profiles of the given persons, from their `usable` records only: sex and birth month by
    /// majority (ties → earliest), municipality from the latest record that states one, and the
    /// date of death when any record states one. Only the month of birth leaves the zone.
    ///
    /// # Errors
    /// Vault or decryption errors.
    pub async fn person_profiles(&self, usable: &BTreeSet<i64>) -> Result<Vec<PersonRow>> {
        let rows = sqlx::query(
            "SELECT record_key, person_key, sex, birth_date, addresses, deceased_on \
             FROM source_records WHERE person_key IS NOT NULL ORDER BY record_key",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(Error::vault("read profiles"))?;
        let mut votes: BTreeMap<i64, Votes> = BTreeMap::new();
        for row in rows {
            let record_key: i64 = row.get(0);
            if !usable.contains(&record_key) {
                continue;
            }
            let v = votes.entry(row.get(1)).or_default();
            *v.sex
                .entry(Sex::from_code(&row.get::<String, _>(2)))
                .or_default() += 1;
            let dob: Option<Date> =
                self.open_json("source_records.birth_date", &row.get::<Vec<u8>, _>(3))?;
            if let Some(m) = dob.and_then(|d| d.with_day(1)) {
                *v.birth_month.entry(m).or_default() += 1;
            }
            let addresses: Vec<AddressJ> =
                self.open_json("source_records.addresses", &row.get::<Vec<u8>, _>(4))?;
            if let Some(code) = addresses.into_iter().find_map(|a| a.municipality()) {
                v.municipality = Some((record_key, code));
            }
            let dead: Option<Date> =
                self.open_json("source_records.deceased_on", &row.get::<Vec<u8>, _>(5))?;
            if dead.is_some() {
                v.deceased_on = dead;
            }
        }
        Ok(votes
            .into_iter()
            .filter_map(|(person_key, v)| {
                let birth_month = majority(&v.birth_month)?;
                let sex = majority(&v.sex).unwrap_or(Sex::Unknown);
                Some(PersonRow {
                    person_key,
                    sex,
                    birth_month,
                    municipality_code: v.municipality.map(|(_, m)| m),
                    deceased_on: v.deceased_on,
                })
            })
            .collect())
    }
}

fn majority<T: Ord + Copy>(counts: &BTreeMap<T, u32>) -> Option<T> {
    let best = counts.values().copied().max()?;
    counts.iter().find(|(_, n)| **n == best).map(|(k, _)| *k)
}
