//! The one mapping from errors to HTTP responses (KA `https/errors.rs`).
//!
//! The status follows the fault group in the error's stable code (STYLE §4): `…NotFound` → 404,
//! `…Exists`, `Policy…` and missing preconditions → 409, privacy limits not reachable → 422,
//! other `Invalid…` → 400, everything else → 500.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why a request failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// The use case failed.
    App(tsumugi_app::Error),
    /// The request body was not the expected JSON. The parser's message is dropped: it may
    /// quote the body.
    InvalidBody(StatusCode),
}

impl From<tsumugi_app::Error> for ApiError {
    fn from(e: tsumugi_app::Error) -> ApiError {
        ApiError::App(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        ApiError::InvalidBody(r.status())
    }
}

/// The error body.
#[derive(Debug, Serialize)]
struct ErrorBody {
    code: String,
    message_en: String,
    message_ja: &'static str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message_en) = match self {
            ApiError::App(e) => {
                let message = e.to_string();
                let code = code_of(&message);
                (status_of(&e, &code), code, message)
            }
            ApiError::InvalidBody(status) => (
                status,
                "SRV0001InvalidBody".to_owned(),
                "SRV0001InvalidBody: the request body is not JSON of the expected shape; see the API description for the fields".to_owned(),
            ),
        };
        if status.is_server_error() {
            // Application error texts carry no identifiers or record values.
            tracing::error!(category = "request", %code, message = %message_en, "request failed");
        } else {
            tracing::info!(category = "request", %code, status = status.as_u16(), "request refused");
        }
        let body = ErrorBody {
            code,
            message_en,
            message_ja: message_ja(status),
        };
        (status, Json(body)).into_response()
    }
}

/// The stable code at the start of an error text (`GOV0007PolicyNotApproved: …`), or the app's
/// internal-error code when the text has none.
fn code_of(message: &str) -> String {
    let head = message.split(':').next().unwrap_or_default();
    let letters = head.trim_start_matches(|c: char| c.is_ascii_uppercase());
    let name = letters.trim_start_matches(|c: char| c.is_ascii_digit());
    let well_formed = head.len() > letters.len()
        && letters.len() > name.len()
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric());
    if well_formed {
        head.to_owned()
    } else {
        "APP0099Internal".to_owned()
    }
}

fn status_of(e: &tsumugi_app::Error, code: &str) -> StatusCode {
    use tsumugi_app::Error;
    match e {
        Error::UnknownProvider(_) | Error::InvalidInput { .. } => StatusCode::BAD_REQUEST,
        Error::NoLifecourse | Error::AuditChainBroken { .. } | Error::DataDirExists(_) => {
            StatusCode::CONFLICT
        }
        Error::Store(_)
        | Error::Identity(_)
        | Error::Govern(_)
        | Error::Anon(_)
        | Error::Stats(_)
        | Error::Synth(_) => status_of_code(code),
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status for a zone crate's error, from the fault group its code names.
fn status_of_code(code: &str) -> StatusCode {
    let name = code
        .trim_start_matches(|c: char| c.is_ascii_uppercase())
        .trim_start_matches(|c: char| c.is_ascii_digit());
    if name.ends_with("NotFound") {
        StatusCode::NOT_FOUND
    } else if name.ends_with("Exists") || name.starts_with("Policy") {
        StatusCode::CONFLICT
    } else if name == "NoSolution" {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if name.starts_with("Invalid") {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

fn message_ja(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "対象が見つかりません",
        StatusCode::CONFLICT => {
            "現在の状態では実行できません（承認・構築・既存データを確認してください）"
        }
        StatusCode::UNPROCESSABLE_ENTITY => "指定の条件では処理できません",
        s if s.is_client_error() => "リクエストの内容が正しくありません",
        _ => "サーバー内部のエラーです（運用担当者に連絡してください）",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let check = |message: &str, code: &str, status: StatusCode| {
            assert_eq!(code_of(message), code, "{message}");
            assert_eq!(status_of_code(code), status, "{message}");
        };
        check(
            "GOV0006InvalidApplicationNotFound: application A does not exist",
            "GOV0006InvalidApplicationNotFound",
            StatusCode::NOT_FOUND,
        );
        check(
            "GOV0007PolicyNotApproved: application A is submitted, not approved",
            "GOV0007PolicyNotApproved",
            StatusCode::CONFLICT,
        );
        check(
            "ANON0008NoSolution: …",
            "ANON0008NoSolution",
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        check(
            "ANON0004ReleaseExists: …",
            "ANON0004ReleaseExists",
            StatusCode::CONFLICT,
        );
        check(
            "STA0002InvalidSpec: …",
            "STA0002InvalidSpec",
            StatusCode::BAD_REQUEST,
        );
        check(
            "STO0002Database: …",
            "STO0002Database",
            StatusCode::INTERNAL_SERVER_ERROR,
        );
        check(
            "no code here",
            "APP0099Internal",
            StatusCode::INTERNAL_SERVER_ERROR,
        );
    }
}
