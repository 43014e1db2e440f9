//! The routes and their handlers: extract → `tsumugi_app` → JSON, errors through [`ApiError`].
//!
//! Request and response shapes owned by the API (the wire format) are defined here; results
//! that the application already shapes as plain data are rendered as they are.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tsumugi_app::AuditStatus;
use tsumugi_app::optout::OptOutReport;
use tsumugi_app::release::{DatePolicy, FirstYear, RegionDetail, ReleaseOutcome, ReleaseRequest};
use tsumugi_app::research::BuildReport;
use tsumugi_app::statistics::StatsOutcome;

use crate::{ApiError, AppState};

/// The API's routes over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/audit/verify", get(audit_verify))
        .route("/api/v1/research/link", post(research_link))
        .route("/api/v1/research/link/review", get(review_queue))
        .route("/api/v1/research/link/review/decide", post(review_decide))
        .route("/api/v1/optout/review", get(optout_review))
        .route("/api/v1/optout/decide", post(optout_decide))
        .route("/api/v1/research/build", post(research_build))
        .route("/api/v1/releases", post(create_release))
        .route("/api/v1/statistics/diagnosis", post(diagnosis_stats))
        .with_state(state)
}

/// `POST /api/v1/releases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    /// The approved application.
    pub application_id: String,
    /// Who receives the package.
    pub recipient: String,
    /// Minimum persons per equivalence class.
    pub k: u32,
    /// Largest share of persons that may be suppressed (0–1).
    pub max_suppression: f64,
    /// How event dates are released (anonymized): `{"policy": "month"}` (default),
    /// `{"policy": "shift", "max_days": 90}` or `{"policy": "days_from_index"}`.
    #[serde(default = "month")]
    pub dates: DatePolicy,
    /// Event-derived quasi-identifiers (anonymized), e.g.
    /// `[{"name": "e11", "system": "icd10", "prefix": "E11"}]`.
    #[serde(default)]
    pub first_year_of: Vec<FirstYear>,
    /// Address detail (pseudonymized): `municipality` (default) or `prefecture`.
    #[serde(default = "municipality")]
    pub region: RegionDetail,
    /// Start the CSV files with a UTF-8 BOM.
    #[serde(default)]
    pub bom: bool,
}

fn month() -> DatePolicy {
    DatePolicy::Month
}

fn municipality() -> RegionDetail {
    RegionDetail::Municipality
}

/// `POST /api/v1/statistics/diagnosis`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisStatsBody {
    /// The approved application.
    pub application_id: String,
    /// ICD-10 code prefix, e.g. `E11`.
    pub icd10: String,
}

/// The answer of `POST /api/v1/research/link`: counts only (person keys never leave).
#[derive(Debug, Serialize)]
pub struct LinkView {
    /// Records considered.
    pub n_records: u64,
    /// Distinct persons after the run.
    pub n_persons: u64,
    /// Persons created by this run.
    pub n_new_persons: u64,
    /// Records whose person key changed or was first set.
    pub n_relinked: u64,
    /// Merges of previously distinct persons.
    pub n_merges: usize,
    /// Splits of a previous person.
    pub n_splits: usize,
    /// Candidate pairs compared.
    pub n_candidate_pairs: u64,
    /// Pairs waiting for clerical review.
    pub n_review: u64,
    /// Open stop requests matched again after linkage.
    pub optout_rematch: OptOutReport,
}

/// One pair of the clerical-review queue: record keys and the probability (no identifier).
#[derive(Debug, Serialize)]
pub struct ReviewItemView {
    /// First record.
    pub record_a: i64,
    /// Second record.
    pub record_b: i64,
    /// Match probability of the last run.
    pub probability: f64,
    /// When it was queued.
    pub queued_at: String,
}

/// `POST /api/v1/research/link/review/decide`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideBody {
    /// First record.
    pub record_a: i64,
    /// Second record.
    pub record_b: i64,
    /// `match` or `no_match`.
    pub decision: String,
}

/// A stop request waiting for a person's decision.
#[derive(Debug, Serialize)]
pub struct StopReviewView {
    /// The request.
    pub request_id: String,
    /// Its candidate persons (opaque keys).
    pub candidates: Vec<i64>,
}

/// `POST /api/v1/optout/decide`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptoutDecideBody {
    /// The request waiting for review.
    pub request_id: String,
    /// The candidate person it is about.
    pub person_key: i64,
}

/// The answer of a decision.
#[derive(Debug, Serialize)]
pub struct DecidedView {
    /// Whether the pair was waiting in the queue.
    pub was_queued: bool,
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
}

type ApiResult<T> = Result<T, ApiError>;

#[tracing::instrument(skip_all)]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[tracing::instrument(skip_all)]
async fn audit_verify(State(state): State<AppState>) -> ApiResult<(StatusCode, Json<AuditStatus>)> {
    let status = tsumugi_app::audit::verify(state.ctx()).await?;
    let code = if status.first_bad.is_none() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok((code, Json(status)))
}

#[tracing::instrument(skip_all)]
async fn research_link(State(state): State<AppState>) -> ApiResult<Json<LinkView>> {
    let _writer = state.writer.lock().await;
    let s = tsumugi_app::research::link(state.ctx()).await?;
    let optout_rematch = tsumugi_app::optout::rematch(state.ctx()).await?;
    Ok(Json(LinkView {
        n_records: s.n_records,
        n_persons: s.n_persons,
        n_new_persons: s.n_new_persons,
        n_relinked: s.n_relinked,
        n_merges: s.merges.len(),
        n_splits: s.splits.len(),
        n_candidate_pairs: s.n_candidate_pairs,
        n_review: s.n_review,
        optout_rematch,
    }))
}

#[tracing::instrument(skip_all)]
async fn research_build(State(state): State<AppState>) -> ApiResult<Json<BuildReport>> {
    let _writer = state.writer.lock().await;
    Ok(Json(tsumugi_app::research::build(state.ctx()).await?))
}

#[tracing::instrument(skip_all)]
async fn create_release(
    State(state): State<AppState>,
    body: Result<Json<ReleaseBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<ReleaseOutcome>)> {
    let Json(body) = body?;
    let req = ReleaseRequest {
        application_id: body.application_id,
        recipient: body.recipient,
        k: body.k,
        max_suppression: body.max_suppression,
        dates: body.dates,
        first_year_of: body.first_year_of,
        region: body.region,
        bom: body.bom,
        // Never a seeded key from the API: pseudonyms must not be recomputable.
        seed: None,
    };
    let _writer = state.writer.lock().await;
    let outcome = tsumugi_app::release::create_release(state.ctx(), &req).await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

#[tracing::instrument(skip_all)]
async fn diagnosis_stats(
    State(state): State<AppState>,
    body: Result<Json<DiagnosisStatsBody>, JsonRejection>,
) -> ApiResult<Json<StatsOutcome>> {
    let Json(body) = body?;
    let _writer = state.writer.lock().await;
    let outcome = tsumugi_app::statistics::diagnosis_by_prefecture_and_age(
        state.ctx(),
        &body.application_id,
        &body.icd10,
    )
    .await?;
    Ok(Json(outcome))
}

#[tracing::instrument(skip_all)]
async fn review_queue(State(state): State<AppState>) -> ApiResult<Json<Vec<ReviewItemView>>> {
    let items = tsumugi_app::research::review_queue(state.ctx()).await?;
    Ok(Json(
        items
            .into_iter()
            .map(|i| ReviewItemView {
                record_a: i.record_a,
                record_b: i.record_b,
                probability: i.probability,
                queued_at: i.queued_at,
            })
            .collect(),
    ))
}

#[tracing::instrument(skip_all)]
async fn review_decide(
    State(state): State<AppState>,
    body: Result<Json<DecideBody>, JsonRejection>,
) -> ApiResult<Json<DecidedView>> {
    let Json(body) = body?;
    let decision = tsumugi_app::research::parse_review_decision(&body.decision)?;
    let _writer = state.writer.lock().await;
    let was_queued =
        tsumugi_app::research::decide_review(state.ctx(), body.record_a, body.record_b, decision)
            .await?;
    Ok(Json(DecidedView { was_queued }))
}

#[tracing::instrument(skip_all)]
async fn optout_review(State(state): State<AppState>) -> ApiResult<Json<Vec<StopReviewView>>> {
    let waiting = tsumugi_app::optout::in_review(state.ctx()).await?;
    Ok(Json(
        waiting
            .into_iter()
            .map(|(request_id, candidates)| StopReviewView {
                request_id,
                candidates,
            })
            .collect(),
    ))
}

#[tracing::instrument(skip_all)]
async fn optout_decide(
    State(state): State<AppState>,
    body: Result<Json<OptoutDecideBody>, JsonRejection>,
) -> ApiResult<Json<OptOutReport>> {
    let Json(body) = body?;
    let _writer = state.writer.lock().await;
    Ok(Json(
        tsumugi_app::optout::decide(state.ctx(), &body.request_id, body.person_key).await?,
    ))
}
