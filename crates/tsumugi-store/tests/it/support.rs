//! Test databases: see [`tsumugi_store::testing`].

use tsumugi_store::Database;

/// Every database the registry must work on here, fresh.
pub async fn databases(tmp: &std::path::Path) -> Vec<(&'static str, Database)> {
    tsumugi_store::testing::databases(tmp, "registry.db").await
}
