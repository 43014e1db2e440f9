//! The tsumugi HTTP API: a thin axum adapter over the use cases in `tsumugi-app`.
//!
//! Every handler does the same four things and nothing else (STYLE §9): extract the request,
//! call one `tsumugi_app` function, render the result as JSON, and map an error through the one
//! [`ApiError`] → HTTP conversion. There is no business logic here; the CLI calls the same
//! functions.
//!
//! Endpoints (all JSON):
//!
//! | method and path | use case | success |
//! |---|---|---|
//! | `GET /api/v1/health` | — | 200 `{"status":"ok"}` |
//! | `GET /api/v1/audit/verify` | `audit::verify` | 200 intact, 409 broken (body: the status) |
//! | `POST /api/v1/research/link` | `research::link`, then `optout::rematch` | 200 [`LinkView`] |
//! | `POST /api/v1/research/build` | `research::build` | 200 build report |
//! | `POST /api/v1/releases` | `release::create_release` | 201 release outcome |
//! | `POST /api/v1/statistics/diagnosis` | `statistics::diagnosis_by_prefecture_and_age` | 200 result |
//!
//! Errors have the body `{"code": "GOV0007PolicyNotApproved", "message_en": …, "message_ja": …}`.
//! Messages come from the application's error texts, which never carry identifiers or record
//! values; request bodies are never echoed.
//!
//! The server listens on loopback unless told otherwise ([`DEFAULT_ADDR`]): it has no
//! authentication yet, so it must not be exposed.
//!
//! ```no_run
//! # async fn run(ctx: tsumugi_app::Ctx) -> std::io::Result<()> {
//! tsumugi_server::serve(ctx, tsumugi_server::DEFAULT_ADDR).await
//! # }
//! ```

mod error;
mod routes;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use tokio::sync::Mutex;

pub use crate::error::ApiError;
pub use crate::routes::{DiagnosisStatsBody, LinkView, ReleaseBody, router};

/// Where [`serve`] listens unless told otherwise: loopback only.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));

/// What every handler shares: the application context.
#[derive(Debug, Clone)]
pub struct AppState {
    ctx: Arc<tsumugi_app::Ctx>,
    /// Held by requests that write (link, build, release, statistics), one at a time: the use
    /// cases number releases and results and rebuild the research store, and are not written
    /// to run concurrently against one data directory.
    writer: Arc<Mutex<()>>,
}

impl AppState {
    /// State over an opened context.
    pub fn new(ctx: Arc<tsumugi_app::Ctx>) -> AppState {
        AppState {
            ctx,
            writer: Arc::new(Mutex::new(())),
        }
    }

    /// The application context.
    pub fn ctx(&self) -> &tsumugi_app::Ctx {
        &self.ctx
    }
}

/// Serves the API on `addr` until ctrl-c, then finishes in-flight requests and closes the
/// context's database pools.
///
/// # Errors
/// Binding the address or accepting connections failed.
pub async fn serve(ctx: tsumugi_app::Ctx, addr: SocketAddr) -> std::io::Result<()> {
    if !addr.ip().is_loopback() {
        tracing::warn!(category = "security", %addr, "listening beyond loopback; the API has no authentication yet");
    }
    let state = AppState::new(Arc::new(ctx));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(category = "ops", addr = %listener.local_addr()?, "tsumugi API listening");
    let res = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    state.ctx.close().await;
    tracing::info!(category = "ops", "tsumugi API stopped");
    res
}

/// Resolves on ctrl-c (or never, when the signal handler cannot be installed).
async fn shutdown_signal() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::error!(category = "ops", error = %e, "cannot listen for ctrl-c; stop the process to shut down");
        std::future::pending::<()>().await;
    }
}
