//! `tsumugi-server`: serves the HTTP API over a data directory (loopback by default).
//!
//! `tsumugi-server --data DIR [--addr 127.0.0.1:8080] [--database-url postgres://…]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use tsumugi_app::{DatabaseUrls, OpenOptions, SystemClock};

/// tsumugi 紡ぎ HTTP API サーバー.
#[derive(Debug, Parser)]
#[command(name = "tsumugi-server", version, about)]
struct Args {
    /// Data directory データディレクトリ.
    #[arg(long, env = "TSUMUGI_DATA", default_value = "./tsumugi-data")]
    data: PathBuf,
    /// Address to listen on (loopback unless you put an authenticating proxy in front).
    #[arg(long, env = "TSUMUGI_ADDR", default_value_t = tsumugi_server::DEFAULT_ADDR)]
    addr: SocketAddr,
    /// Registry database URL (default: embedded SQLite in the data directory).
    #[arg(long, env = "TSUMUGI_DATABASE_URL")]
    database_url: Option<String>,
    /// Identity vault database URL (default: embedded SQLite in the data directory).
    #[arg(long, env = "TSUMUGI_VAULT_URL")]
    vault_url: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let ctx = tsumugi_app::open(
        &args.data,
        OpenOptions {
            urls: DatabaseUrls {
                registry: args.database_url,
                vault: args.vault_url,
            },
            clock: Arc::new(SystemClock),
            seed: None,
            actor: "operator:api".to_owned(),
        },
    )
    .await
    .with_context(|| format!("opening data directory {}", args.data.display()))?;
    tracing::info!(category = "ops", addr = %args.addr, "serving the tsumugi API");
    tsumugi_server::serve(ctx, args.addr)
        .await
        .with_context(|| format!("serving on {}", args.addr))
}
