//! HTTP tests of the API over a fresh data directory (one test binary per crate, STYLE §7).
//!
//! Requests go straight into the router with `tower::ServiceExt::oneshot`: no sockets, no wall
//! clock (a fixed `ManualClock`), a seeded RNG.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;
use tsumugi_app::{ManualClock, OpenOptions};
use tsumugi_server::AppState;

/// A router over a new data directory (kept alive by the returned `TempDir`).
async fn app() -> (Router, TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap());
    let ctx = tsumugi_app::init(
        &tmp.path().join("data"),
        false,
        OpenOptions {
            urls: Default::default(),
            clock: Arc::new(clock),
            seed: Some(1),
            actor: "test".into(),
        },
    )
    .await
    .unwrap();
    (tsumugi_server::router(AppState::new(Arc::new(ctx))), tmp)
}

/// Sends one request; returns the status and the JSON body.
async fn send(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let req = Request::builder().method(method).uri(uri);
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: body is not JSON ({e}): {bytes:?}"));
    (status, json)
}

#[tokio::test]
async fn health_is_ok() {
    let (app, _tmp) = app().await;
    let (status, body) = send(&app, "GET", "/api/v1/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn audit_verify_reports_an_intact_chain() {
    let (app, _tmp) = app().await;
    let (status, body) = send(&app, "GET", "/api/v1/audit/verify", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["n_entries"].as_u64().unwrap() >= 1, "{body}");
    assert!(body["first_bad"].is_null(), "{body}");
}

#[tokio::test]
async fn release_without_an_approved_application_is_refused_with_a_code() {
    let (app, _tmp) = app().await;
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/releases",
        Some(json!({
            "application_id": "APP-NOT-THERE",
            "recipient": "someone",
            "k": 5,
            "max_suppression": 0.2,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let code = body["code"].as_str().unwrap();
    assert_eq!(code, "GOV0006InvalidApplicationNotFound", "{body}");
    assert!(
        body["message_en"].as_str().unwrap().starts_with(code),
        "{body}"
    );
    assert!(!body["message_ja"].as_str().unwrap().is_empty(), "{body}");
}

#[tokio::test]
async fn malformed_bodies_are_not_echoed() {
    let (app, _tmp) = app().await;
    let canary = "山田太郎-canary";
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/releases",
        Some(json!({"application_id": "A", "recipient": "r", "k": canary, "max_suppression": 0.2})),
    )
    .await;
    assert!(status.is_client_error(), "{status}: {body}");
    assert_eq!(body["code"], "SRV0001InvalidBody");
    assert!(!body.to_string().contains(canary), "{body}");
}

#[tokio::test]
async fn build_on_an_empty_store_has_no_persons() {
    let (app, _tmp) = app().await;
    let (status, body) = send(&app, "POST", "/api/v1/research/build", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["n_persons"], 0, "{body}");
    assert_eq!(body["n_records"], 0, "{body}");
}

#[tokio::test]
async fn link_on_an_empty_vault_finds_nobody() {
    let (app, _tmp) = app().await;
    let (status, body) = send(&app, "POST", "/api/v1/research/link", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["n_persons"], 0, "{body}");
    assert_eq!(body["n_merges"], 0, "{body}");
}

#[tokio::test]
async fn review_queue_is_listed_and_decisions_are_checked() {
    let (app, _tmp) = app().await;
    let (status, body) = send(&app, "GET", "/api/v1/research/link/review", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!([]), "{body}");
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/research/link/review/decide",
        Some(json!({"record_a": 1, "record_b": 2, "decision": "match"})),
    )
    .await;
    assert!(status.is_client_error(), "{status}: {body}");
    assert_eq!(body["code"], "IDN0004InvalidReview", "{body}");
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/research/link/review/decide",
        Some(json!({"record_a": 1, "record_b": 2, "decision": "maybe"})),
    )
    .await;
    assert!(status.is_client_error(), "{status}: {body}");
}

#[tokio::test]
async fn stop_requests_in_review_are_listed_and_unknown_ones_refused() {
    let (app, _tmp) = app().await;
    let (status, body) = send(&app, "GET", "/api/v1/optout/review", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!([]), "{body}");
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/optout/decide",
        Some(json!({"request_id": "REQ-NONE", "person_key": 1})),
    )
    .await;
    assert!(status.is_client_error(), "{status}: {body}");
    assert_eq!(body["code"], "IDN0003InvalidStopRequest", "{body}");
}

#[tokio::test]
async fn statistics_need_a_built_store() {
    let (app, _tmp) = app().await;
    let (status, body) = send(
        &app,
        "POST",
        "/api/v1/statistics/diagnosis",
        Some(json!({"application_id": "APP-NOT-THERE", "icd10": "E11"})),
    )
    .await;
    assert!(status.is_client_error(), "{status}: {body}");
    assert!(body["code"].is_string(), "{body}");
}
