//! Linking records to persons and building the linked lifecourse in the research store.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tsumugi_identity::{Eligibility, LinkOptions, LinkSummary};
pub use tsumugi_identity::{ReviewDecision, ReviewItem};
use tsumugi_model::ProviderKind;

use crate::{Ctx, Result, audit, ingest};

/// Event rows per lifecourse file before a new file is started.
const ROWS_PER_FILE: u64 = 4_000_000;

/// Which records a linkage run looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// Every record: the model is trained again, persons re-formed (keys stable), decisions
    /// and weak bridges applied.
    Full,
    /// Only the records not linked yet, against the stored persons with the last full run's
    /// model: no full re-run (a full run when there has been none).
    NewRecords,
}

/// Runs linkage (名寄せ): over every stored record, or only over the new ones.
///
/// # Errors
/// Zone errors.
pub async fn link_records(ctx: &Ctx, mode: LinkMode) -> Result<LinkSummary> {
    let mut rng = ctx.rng();
    let opts = link_options(ctx).await?;
    let summary = match mode {
        LinkMode::Full => ctx.vault.link(ctx.clock.now(), &opts, &mut rng).await?,
        LinkMode::NewRecords => {
            ctx.vault
                .link_new_records(ctx.clock.now(), &opts, &mut rng)
                .await?
        }
    };
    audit::record(
        ctx,
        "linkage.run",
        tsumugi_identity::RULE_VERSION,
        serde_json::json!({
            "mode": format!("{mode:?}"),
            "records": summary.n_records, "persons": summary.n_persons,
            "new_persons": summary.n_new_persons, "relinked": summary.n_relinked,
            "merges": summary.merges, "splits": summary.splits,
            "candidate_pairs": summary.n_candidate_pairs, "review": summary.n_review,
            "model": summary.model,
        }),
    )
    .await?;
    Ok(summary)
}

/// How the registry's providers take part in linkage: 特定健診 records carry an id derived
/// from the insurance card, which changes with it, so a checkup centre may hold one person
/// under several ids.
///
/// # Errors
/// Registry errors.
pub(crate) async fn link_options(ctx: &Ctx) -> Result<LinkOptions> {
    let card_derived_ids = tsumugi_store::registry::provider_kinds(&ctx.registry)
        .await?
        .into_iter()
        .filter(|(_, kind)| kind == ProviderKind::CheckupCentre.as_str())
        .map(|(id, _)| id)
        .collect();
    Ok(LinkOptions { card_derived_ids })
}

/// Runs a full linkage over every stored record ([`LinkMode::Full`]).
///
/// # Errors
/// Zone errors.
pub async fn link(ctx: &Ctx) -> Result<LinkSummary> {
    link_records(ctx, LinkMode::Full).await
}

/// Why two stored records scored what they did in the last linkage run (record keys in,
/// levels and weights out). The look is audited.
///
/// # Errors
/// Vault errors; no linkage run yet; unknown records.
pub async fn explain_records(
    ctx: &Ctx,
    a: i64,
    b: i64,
) -> Result<tsumugi_identity::linkage::Explanation> {
    let opts = link_options(ctx).await?;
    let explanation = ctx.vault.explain_records(a, b, &opts).await?;
    audit::record(
        ctx,
        "linkage.explain",
        &format!("records {}-{}", a.min(b), a.max(b)),
        serde_json::json!({ "match_weight": explanation.match_weight }),
    )
    .await?;
    Ok(explanation)
}

/// The linkage pairs waiting for a person's decision (record keys and probabilities only).
///
/// # Errors
/// Vault errors.
pub async fn review_queue(ctx: &Ctx) -> Result<Vec<ReviewItem>> {
    Ok(ctx.vault.review_queue().await?)
}

/// Reads a decision as people write it: `match` / `same` / `同一`, or `no_match` /
/// `no-match` / `different` / `別人`.
///
/// # Errors
/// [`crate::Error::InvalidInput`] for anything else.
pub fn parse_review_decision(s: &str) -> Result<ReviewDecision> {
    match s.trim() {
        "match" | "same" | "同一" => Ok(ReviewDecision::Match),
        "no_match" | "no-match" | "different" | "別人" => Ok(ReviewDecision::NoMatch),
        _ => Err(crate::Error::InvalidInput {
            file: "decision".to_owned(),
            line: 0,
            reason: "a decision is match (同一) or no_match (別人)".to_owned(),
        }),
    }
}

/// Records a clerical-review decision on two records; it binds the next linkage runs.
///
/// # Errors
/// Vault errors; unknown records.
pub async fn decide_review(ctx: &Ctx, a: i64, b: i64, decision: ReviewDecision) -> Result<bool> {
    let queued = ctx
        .vault
        .decide_review(a, b, decision, &ctx.actor, ctx.clock.now())
        .await?;
    audit::record(
        ctx,
        "linkage.review",
        &format!("records {}-{}", a.min(b), a.max(b)),
        serde_json::json!({ "decision": format!("{decision:?}"), "queued": queued }),
    )
    .await?;
    Ok(queued)
}

/// What a build of the research store used and left out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildReport {
    /// Records in the vault.
    pub n_records: u64,
    /// Records usable (notice old enough).
    pub n_usable: u64,
    /// Records held: no notice from the provider.
    pub n_held_no_notice: u64,
    /// Records held: notified within the waiting period.
    pub n_held_waiting: u64,
    /// Persons in the lifecourse.
    pub n_persons: u64,
    /// Persons left out because a stop request is in force.
    pub n_excluded_optout: u64,
    /// Event rows in the lifecourse.
    pub n_events: u64,
}

/// Rebuilds the linked lifecourse: only usable records (notice present and past the waiting
/// period on today's date), only linked persons, never a person with a stop request in force.
///
/// # Errors
/// Zone errors.
pub async fn build(ctx: &Ctx) -> Result<BuildReport> {
    let today = ctx.clock.now().date_naive();
    let eligibility = ctx
        .vault
        .eligibility(
            today,
            None,
            &ingest::waiting_days(ctx).await?,
            ctx.config.waiting_days,
        )
        .await?;
    let links = ctx.vault.record_persons().await?;
    let excluded = ctx.vault.enforced_persons().await?;
    let mut report = BuildReport {
        n_records: eligibility.len() as u64,
        ..BuildReport::default()
    };
    let mut usable: BTreeSet<i64> = BTreeSet::new();
    for (key, e) in &eligibility {
        match e {
            Eligibility::Usable => {
                report.n_usable += 1;
                usable.insert(*key);
            }
            Eligibility::HeldNoNotice => report.n_held_no_notice += 1,
            Eligibility::HeldWaiting => report.n_held_waiting += 1,
        }
    }
    let profiles = ctx.vault.person_profiles(&usable).await?;
    let in_store: BTreeSet<i64> = profiles
        .iter()
        .map(|p| p.person_key)
        .filter(|k| !excluded.contains(k))
        .collect();
    report.n_excluded_optout = profiles
        .iter()
        .filter(|p| excluded.contains(&p.person_key))
        .count() as u64;
    let record_person: BTreeMap<i64, i64> = links
        .into_iter()
        .filter(|(record, person)| usable.contains(record) && in_store.contains(person))
        .collect();
    let mut build = ctx.store.begin_lifecourse()?;
    let mut writer = build.next_event_writer()?;
    for path in ctx.store.ingest_files()? {
        for batch in ctx.store.read_events(&path)? {
            for row in batch? {
                if let Some(person) = record_person.get(&row.key) {
                    writer.push(*person, &row.event)?;
                    if writer.n_rows() >= ROWS_PER_FILE {
                        report.n_events +=
                            std::mem::replace(&mut writer, build.next_event_writer()?).finish()?;
                    }
                }
            }
        }
    }
    report.n_events += writer.finish()?;
    let persons: Vec<_> = profiles
        .into_iter()
        .filter(|p| in_store.contains(&p.person_key))
        .collect();
    report.n_persons = persons.len() as u64;
    build.write_persons(&persons)?;
    build.commit()?;
    audit::record(
        ctx,
        "research_store.built",
        &today.to_string(),
        serde_json::json!({
            "persons": report.n_persons, "events": report.n_events, "usable_records": report.n_usable,
            "held_no_notice": report.n_held_no_notice, "held_waiting": report.n_held_waiting,
            "excluded_optout": report.n_excluded_optout,
        }),
    )
    .await?;
    Ok(report)
}
