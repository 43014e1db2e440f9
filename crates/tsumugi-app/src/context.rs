//! The data directory and the context every use case runs in.
//!
//! Layout of a data directory (`tsumugi init DIR`):
//!
//! ```text
//! DIR/tsumugi.toml        format version and settings
//! DIR/keys/               key files, mode 0600 (folder 0700)
//! DIR/registry.db         SQL registry (unless --database-url names PostgreSQL)
//! DIR/vault.db            identity vault, field-encrypted (unless --vault-url)
//! DIR/staging/            submissions as received, encrypted (identity zone)
//! DIR/research/           research store: encrypted Parquet, keyed by opaque keys
//! DIR/releases/<id>/      release packages
//! DIR/statistics/<id>/    checked statistics results
//! DIR/reports/            rejection reports of submissions
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use tsumugi_identity::Vault;
use tsumugi_store::{
    Database, FileKeyProvider, KeyProvider, REGISTRY_POSTGRES, REGISTRY_SQLITE, ResearchStore,
};

use crate::{Clock, Error, Result};

/// The data directory format this version reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// `tsumugi.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataDirConfig {
    /// Format version.
    pub format: u32,
    /// When the directory was created (RFC 3339).
    pub created_at: String,
    /// Whether `tsumugi demo` made it (only such a folder may be wiped by the demo).
    pub demo: bool,
    /// Default notice waiting period in days (providers may override).
    pub waiting_days: i64,
}

/// Where the SQL databases are. `None` means the embedded SQLite file in the data directory.
#[derive(Debug, Clone, Default)]
pub struct DatabaseUrls {
    /// Registry URL (`postgres://…` in production).
    pub registry: Option<String>,
    /// Identity vault URL (a separate database or role in production).
    pub vault: Option<String>,
}

/// Paths inside a data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The directory at `root` (not checked).
    pub fn new(root: &Path) -> DataDir {
        DataDir {
            root: root.to_owned(),
        }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `tsumugi.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("tsumugi.toml")
    }

    /// Key folder.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// Staged submissions.
    pub fn staging(&self) -> PathBuf {
        self.root.join("staging")
    }

    /// Research store root.
    pub fn research(&self) -> PathBuf {
        self.root.join("research")
    }

    /// Release packages.
    pub fn releases(&self) -> PathBuf {
        self.root.join("releases")
    }

    /// Statistics results.
    pub fn statistics(&self) -> PathBuf {
        self.root.join("statistics")
    }

    /// Rejection reports.
    pub fn reports(&self) -> PathBuf {
        self.root.join("reports")
    }

    fn registry_url(&self, urls: &DatabaseUrls) -> String {
        urls.registry
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.root.join("registry.db").display()))
    }

    fn vault_url(&self, urls: &DatabaseUrls) -> String {
        urls.vault
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.root.join("vault.db").display()))
    }

    /// Reads `tsumugi.toml`.
    ///
    /// # Errors
    /// [`Error::NotADataDir`] when missing, unreadable or of another format.
    pub fn config(&self) -> Result<DataDirConfig> {
        let text = fs::read_to_string(self.config_file())
            .map_err(|_| Error::NotADataDir(self.root.clone()))?;
        let cfg: DataDirConfig =
            toml::from_str(&text).map_err(|_| Error::NotADataDir(self.root.clone()))?;
        if cfg.format != FORMAT_VERSION {
            return Err(Error::NotADataDir(self.root.clone()));
        }
        Ok(cfg)
    }
}

/// Everything a use case needs: the zones' handles, the clock and the randomness.
pub struct Ctx {
    pub(crate) dir: DataDir,
    pub(crate) config: DataDirConfig,
    pub(crate) registry: Database,
    pub(crate) vault: Vault,
    pub(crate) store: ResearchStore,
    pub(crate) keys: Arc<dyn KeyProvider>,
    pub(crate) clock: Arc<dyn Clock>,
    rng: Mutex<StdRng>,
    pub(crate) actor: String,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("dir", &self.dir)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// How to open a context.
pub struct OpenOptions {
    /// Database URLs.
    pub urls: DatabaseUrls,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Seed for the RNG; `None` seeds from the operating system (production).
    pub seed: Option<u64>,
    /// Who acts, for the audit log (e.g. `operator:cli`).
    pub actor: String,
}

impl Ctx {
    /// The data directory.
    pub fn dir(&self) -> &DataDir {
        &self.dir
    }

    /// The registry database.
    pub fn registry(&self) -> &Database {
        &self.registry
    }

    /// The research store.
    pub fn store(&self) -> &ResearchStore {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// A fresh RNG for one operation, forked from the context's (a CSPRNG unless seeded).
    pub(crate) fn rng(&self) -> StdRng {
        match self.rng.lock() {
            Ok(mut parent) => StdRng::from_rng(&mut *parent),
            // A poisoned lock means a panic elsewhere; fall back to the OS.
            Err(_) => StdRng::from_os_rng(),
        }
    }

    /// Closes the database pools.
    pub async fn close(&self) {
        self.registry.close().await;
        self.vault.database().close().await;
    }
}

/// Creates a data directory: keys (0600), registry and vault with migrations, research store.
///
/// # Errors
/// [`Error::DataDirExists`] if `root` exists and is not empty; store and identity errors.
pub async fn init(root: &Path, demo: bool, opts: OpenOptions) -> Result<Ctx> {
    if root.exists()
        && fs::read_dir(root)
            .map_err(Error::io(root))?
            .next()
            .is_some()
    {
        return Err(Error::DataDirExists(root.to_owned()));
    }
    fs::create_dir_all(root).map_err(Error::io(root))?;
    let dir = DataDir::new(root);
    let mut rng = match opts.seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    };
    FileKeyProvider::create(&dir.keys(), &mut rng)?;
    for d in [
        dir.staging(),
        dir.releases(),
        dir.statistics(),
        dir.reports(),
    ] {
        fs::create_dir_all(&d).map_err(Error::io(&d))?;
    }
    let config = DataDirConfig {
        format: FORMAT_VERSION,
        created_at: opts.clock.now().to_rfc3339(),
        demo,
        waiting_days: 30,
    };
    let text = toml::to_string(&config).map_err(|e| Error::Internal(e.to_string()))?;
    tsumugi_store::write_atomically(&dir.config_file(), text.as_bytes())?;
    let ctx = open(root, opts).await?;
    crate::audit::record(
        &ctx,
        "datadir.initialized",
        root.display().to_string().as_str(),
        serde_json::json!({"format": FORMAT_VERSION}),
    )
    .await?;
    Ok(ctx)
}

/// Opens an existing data directory: connects and migrates the registry and the vault.
///
/// # Errors
/// [`Error::NotADataDir`]; store and identity errors.
pub async fn open(root: &Path, opts: OpenOptions) -> Result<Ctx> {
    let dir = DataDir::new(root);
    let config = dir.config()?;
    let keys: Arc<dyn KeyProvider> = Arc::new(FileKeyProvider::open(&dir.keys()));
    let mut rng = match opts.seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    };
    let registry = Database::connect(&dir.registry_url(&opts.urls)).await?;
    registry
        .migrate(&REGISTRY_SQLITE, &REGISTRY_POSTGRES)
        .await?;
    let vault_db = Database::connect(&dir.vault_url(&opts.urls)).await?;
    let vault = Vault::open(vault_db, &*keys, opts.clock.now(), &mut rng).await?;
    let store = ResearchStore::open(&dir.research(), &*keys)?;
    Ok(Ctx {
        dir,
        config,
        registry,
        vault,
        store,
        keys,
        clock: opts.clock,
        rng: Mutex::new(rng),
        actor: opts.actor,
    })
}
