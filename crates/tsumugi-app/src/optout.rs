//! Honouring stop requests (提供停止請求): register, match, purge, record the deletion.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use tsumugi_govern::{Deletion, RecordBody};
use tsumugi_identity::{Channel, Requester, StopOutcome, StopRequest, StopStatus};
use tsumugi_model::{Address, IdentityAttributes, Insurance, PersonName, ProviderId, Sex};

use crate::ingest::{invalid, parse_date_field, read_csv};
use crate::{Ctx, Result, audit};

/// What happened to a batch of stop requests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OptOutReport {
    /// Requests registered (new).
    pub n_registered: u64,
    /// Requests matched to one person and enforced.
    pub n_enforced: u64,
    /// Requests waiting for a person's decision (several candidates).
    pub n_review: u64,
    /// Requests with no matching person yet (kept open, matched again after every ingest).
    pub n_unmatched: u64,
    /// Persons purged.
    pub n_persons_purged: u64,
    /// Vault records purged.
    pub n_records_purged: u64,
    /// Research rows purged.
    pub n_rows_purged: u64,
}

/// A stop-request file row filter: which `received_on` dates to take.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedWindow {
    /// Take requests received after this date (exclusive), if set.
    pub after: Option<chrono::NaiveDate>,
    /// Take requests received on or before this date, if set.
    pub until: Option<chrono::NaiveDate>,
}

/// Reads a stop-request CSV (columns `request_id, received_on, channel, provider_id, patient_id,
/// requester, family_kanji, given_kanji, family_kana, given_kana, birth_date, sex, postal_code,
/// address, insurer_number, insured_symbol, insured_number`; birth dates may be 和暦).
///
/// # Errors
/// [`crate::Error::InvalidInput`] naming the line and column, never the value.
pub fn read_stop_requests(path: &Path, window: ReceivedWindow) -> Result<Vec<StopRequest>> {
    let mut out = Vec::new();
    for (line, row) in read_csv(path)? {
        let get = |name: &str| {
            row.get(name)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let request_id =
            get("request_id").ok_or_else(|| invalid(path, line, "request_id is empty"))?;
        let received_on = parse_date_field(
            path,
            line,
            "received_on",
            &get("received_on").unwrap_or_default(),
        )?;
        if window.after.is_some_and(|a| received_on <= a)
            || window.until.is_some_and(|u| received_on > u)
        {
            continue;
        }
        let channel = match get("channel").as_deref() {
            Some("provider") => Channel::Provider,
            Some("centre") | Some("center") => Channel::Centre,
            _ => return Err(invalid(path, line, "channel must be provider or centre")),
        };
        let requester = match get("requester").as_deref() {
            Some("person") | None => Requester::Person,
            Some("guardian") => Requester::Guardian,
            Some("bereaved") => Requester::Bereaved,
            _ => {
                return Err(invalid(
                    path,
                    line,
                    "requester must be person, guardian or bereaved",
                ));
            }
        };
        let birth_date = match get("birth_date") {
            Some(s) => Some(parse_date_field(path, line, "birth_date", &s)?),
            None => None,
        };
        let name = PersonName {
            family_kanji: get("family_kanji"),
            given_kanji: get("given_kanji"),
            family_kana: get("family_kana"),
            given_kana: get("given_kana"),
        };
        let has_name = name != PersonName::default();
        let address = Address {
            postal_code: get("postal_code"),
            text: get("address"),
            municipality_code: None,
        };
        let insurance = Insurance {
            insurer_number: get("insurer_number"),
            symbol: get("insured_symbol"),
            number: get("insured_number"),
            branch: None,
        };
        out.push(StopRequest {
            request_id,
            received_on,
            channel,
            requester,
            provider_id: get("provider_id").map(ProviderId),
            identity: IdentityAttributes {
                patient_id: get("patient_id"),
                names: if has_name { vec![name] } else { Vec::new() },
                birth_date,
                sex: match get("sex").as_deref() {
                    Some("M" | "male" | "1") => Sex::Male,
                    Some("F" | "female" | "2") => Sex::Female,
                    _ => Sex::Unknown,
                },
                addresses: if address == Address::default() {
                    Vec::new()
                } else {
                    vec![address]
                },
                insurances: if insurance == Insurance::default() {
                    Vec::new()
                } else {
                    vec![insurance]
                },
                deceased_on: None,
            },
        });
    }
    Ok(out)
}

/// Registers stop requests, then purges every person they are enforced on.
///
/// # Errors
/// Zone errors; an invalid request (nothing to match on) is an error naming its id.
pub async fn register_stop_requests(ctx: &Ctx, requests: &[StopRequest]) -> Result<OptOutReport> {
    let mut report = OptOutReport::default();
    let mut rng = ctx.rng();
    let mut outcomes = Vec::new();
    for req in requests {
        let outcome = ctx
            .vault
            .register_stop_request(req, ctx.clock.now(), &mut rng)
            .await?;
        audit::record(
            ctx,
            "optout.registered",
            &req.request_id,
            serde_json::json!({
                "channel": req.channel.as_str(), "requester": req.requester.as_str(),
                "status": status_name(&outcome.status), "registry_version": outcome.registry_version,
            }),
        )
        .await?;
        report.n_registered += 1;
        match &outcome.status {
            StopStatus::Enforced { .. } => report.n_enforced += 1,
            StopStatus::Review { .. } => report.n_review += 1,
            StopStatus::Unmatched => report.n_unmatched += 1,
        }
        outcomes.push(outcome);
    }
    // The probabilistic engine looks for the persons the match keys did not find.
    let opts = crate::research::link_options(ctx).await?;
    for found in ctx
        .vault
        .rematch_open_requests(ctx.clock.now(), &opts, &mut rng)
        .await?
    {
        let Some(at) = outcomes
            .iter()
            .position(|o| o.request_id == found.request_id)
        else {
            outcomes.push(found);
            continue;
        };
        match &outcomes[at].status {
            StopStatus::Enforced { .. } => continue,
            StopStatus::Review { .. } => report.n_review -= 1,
            StopStatus::Unmatched => report.n_unmatched -= 1,
        }
        report.n_enforced += 1;
        outcomes[at] = found;
    }
    purge_enforced(ctx, &outcomes, &mut report).await?;
    Ok(report)
}

/// Matches open requests again (after linkage) and purges newly found persons.
///
/// # Errors
/// Zone errors.
pub async fn rematch(ctx: &Ctx) -> Result<OptOutReport> {
    let opts = crate::research::link_options(ctx).await?;
    let mut rng = ctx.rng();
    let outcomes = ctx
        .vault
        .rematch_open_requests(ctx.clock.now(), &opts, &mut rng)
        .await?;
    let mut report = OptOutReport::default();
    purge_enforced(ctx, &outcomes, &mut report).await?;
    let counts = ctx.vault.stop_request_counts().await?;
    report.n_enforced = counts.get("enforced").copied().unwrap_or(0) as u64;
    report.n_review = counts.get("review").copied().unwrap_or(0) as u64;
    report.n_unmatched = counts.get("unmatched").copied().unwrap_or(0) as u64;
    Ok(report)
}

/// The stop requests waiting for a person's decision, with their candidate persons (opaque
/// keys).
///
/// # Errors
/// Zone errors.
pub async fn in_review(ctx: &Ctx) -> Result<Vec<(String, Vec<i64>)>> {
    Ok(ctx.vault.stop_requests_in_review().await?)
}

/// Enforces a request waiting for review on one of its candidates, as a person decided, and
/// purges that person.
///
/// # Errors
/// Zone errors; a request not in review or a person not among its candidates.
pub async fn decide(ctx: &Ctx, request_id: &str, person_key: i64) -> Result<OptOutReport> {
    let outcome = ctx
        .vault
        .decide_stop_request(request_id, person_key, &ctx.actor, ctx.clock.now())
        .await?;
    audit::record(
        ctx,
        "optout.decided",
        request_id,
        serde_json::json!({ "status": status_name(&outcome.status) }),
    )
    .await?;
    let mut report = OptOutReport {
        n_enforced: 1,
        ..OptOutReport::default()
    };
    purge_enforced(ctx, &[outcome], &mut report).await?;
    Ok(report)
}

/// The consultation centre's question "is this patient's data held, under which person?":
/// the opaque person keys of the records `provider` holds under `patient_id` (empty once the
/// person's data has been purged). The lookup itself is audited.
///
/// # Errors
/// Zone errors.
pub async fn persons_of_patient(
    ctx: &Ctx,
    provider: &ProviderId,
    patient_id: &str,
) -> Result<BTreeSet<i64>> {
    let persons = ctx.vault.persons_of_patient(provider, patient_id).await?;
    audit::record(
        ctx,
        "identity.lookup",
        provider.as_str(),
        serde_json::json!({"found": persons.len()}),
    )
    .await?;
    Ok(persons)
}

fn status_name(s: &StopStatus) -> &'static str {
    match s {
        StopStatus::Enforced { .. } => "enforced",
        StopStatus::Review { .. } => "review",
        StopStatus::Unmatched => "unmatched",
    }
}

/// Purges each enforced person still holding data: vault records, then in one pass their
/// research rows (ingest rows by record key, lifecourse rows by person key), then a statutory
/// deletion record and an audit entry per person.
async fn purge_enforced(
    ctx: &Ctx,
    outcomes: &[StopOutcome],
    report: &mut OptOutReport,
) -> Result<()> {
    let mut purged: BTreeMap<i64, (String, BTreeSet<i64>)> = BTreeMap::new();
    for o in outcomes {
        let StopStatus::Enforced { person_key } = o.status else {
            continue;
        };
        if purged.contains_key(&person_key) {
            continue;
        }
        let records = ctx.vault.purge_person(person_key).await?;
        if !records.is_empty() {
            purged.insert(person_key, (o.request_id.clone(), records));
        }
    }
    if purged.is_empty() {
        return Ok(());
    }
    let record_keys: BTreeSet<i64> = purged
        .values()
        .flat_map(|(_, r)| r.iter().copied())
        .collect();
    let person_keys: BTreeSet<i64> = purged.keys().copied().collect();
    let ingest_rows = ctx.store.purge_ingest_keys(&record_keys)?;
    let lifecourse_rows = ctx.store.purge_lifecourse_persons(&person_keys)?;
    for (person_key, (request_id, records)) in &purged {
        let rows = records
            .iter()
            .map(|k| ingest_rows.get(k).copied().unwrap_or(0))
            .sum::<u64>()
            + lifecourse_rows.get(person_key).copied().unwrap_or(0);
        report.n_persons_purged += 1;
        report.n_records_purged += records.len() as u64;
        report.n_rows_purged += rows;
        let deletion = Deletion {
            person_key: *person_key,
            reason: "stop request (提供停止請求)".to_owned(),
            request_id: request_id.clone(),
            n_vault_records: records.len() as u64,
            n_research_rows: rows,
        };
        tsumugi_govern::record_body(
            &ctx.registry,
            ctx.clock.now(),
            &person_key.to_string(),
            &RecordBody::Deletion(deletion),
        )
        .await?;
        audit::record(
            ctx,
            "optout.purged",
            request_id,
            serde_json::json!({"person_key": person_key, "vault_records": records.len(), "research_rows": rows}),
        )
        .await?;
    }
    Ok(())
}
