//! The research zone: Parquet files under modular encryption, keyed by opaque integers.
//!
//! Layout under the store root:
//! - `ingest/<submission>.parquet`: events as submitted, keyed by the vault's record key;
//! - `lifecourse/events-NNNNN.parquet` and `lifecourse/persons.parquet`: the linked lifecourse,
//!   keyed by person key, holding only persons whose data may be used.

mod events;
mod persons;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::encryption::decrypt::FileDecryptionProperties;
use parquet::encryption::encrypt::FileEncryptionProperties;
use parquet::file::properties::WriterProperties;

use crate::{Error, KeyName, KeyProvider, Result, SecretKey};

pub use self::events::{EventFileWriter, EventRow};
pub use self::persons::PersonRow;

/// Identifies which key version encrypted a file, so keys can rotate.
const KEY_METADATA: &[u8] = b"tsumugi-research-v1";

/// Handle on the research store's folder and key.
#[derive(Clone)]
pub struct ResearchStore {
    root: PathBuf,
    key: Arc<SecretKey>,
}

impl std::fmt::Debug for ResearchStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResearchStore")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl ResearchStore {
    /// Opens (creating the folders if needed) the store at `root`, with the research key.
    ///
    /// # Errors
    /// [`Error::KeyUnavailable`] or [`Error::Io`].
    pub fn open(root: &Path, keys: &dyn KeyProvider) -> Result<ResearchStore> {
        for dir in [root.join("ingest"), root.join("lifecourse")] {
            fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        }
        Ok(ResearchStore {
            root: root.to_owned(),
            key: Arc::new(keys.key(KeyName::Research)?),
        })
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The events file of one submission.
    pub fn ingest_file(&self, submission_id: i64) -> PathBuf {
        self.root
            .join("ingest")
            .join(format!("{submission_id:010}.parquet"))
    }

    /// Every submission events file, in submission order.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn ingest_files(&self) -> Result<Vec<PathBuf>> {
        list_parquet(&self.root.join("ingest"))
    }

    /// The folder of the linked lifecourse.
    pub fn lifecourse_dir(&self) -> PathBuf {
        self.root.join("lifecourse")
    }

    /// The lifecourse event files, in order.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn lifecourse_event_files(&self) -> Result<Vec<PathBuf>> {
        Ok(list_parquet(&self.lifecourse_dir())?
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("events-"))
            })
            .collect())
    }

    /// The lifecourse persons file.
    pub fn persons_file(&self) -> PathBuf {
        self.lifecourse_dir().join("persons.parquet")
    }

    /// Starts a new lifecourse in a scratch folder; [`LifecourseBuild::commit`] swaps it in
    /// whole, so readers never see a half-built lifecourse.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn begin_lifecourse(&self) -> Result<LifecourseBuild> {
        let dir = self.root.join("lifecourse.new");
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(Error::io(&dir))?;
        }
        fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        Ok(LifecourseBuild {
            store: self.clone(),
            dir,
            n_files: 0,
        })
    }

    /// Removes every ingest row whose key is in `keys` (a purge after a stop request), rewriting
    /// only the files that hold such rows. Returns the rows removed per key.
    ///
    /// # Errors
    /// Store errors; each file is replaced atomically, so a crash leaves old or new, never torn.
    pub fn purge_ingest_keys(&self, keys: &BTreeSet<i64>) -> Result<BTreeMap<i64, u64>> {
        self.purge_rows(&self.ingest_files()?, keys)
    }

    /// Removes the lifecourse rows and persons-file rows of `persons` (person keys). Returns the
    /// event rows removed per person.
    ///
    /// # Errors
    /// As [`ResearchStore::purge_ingest_keys`].
    pub fn purge_lifecourse_persons(&self, persons: &BTreeSet<i64>) -> Result<BTreeMap<i64, u64>> {
        let removed = self.purge_rows(&self.lifecourse_event_files()?, persons)?;
        let path = self.persons_file();
        if path.exists() {
            let rows = self.read_persons(&path)?;
            if rows.iter().any(|r| persons.contains(&r.person_key)) {
                let kept: Vec<PersonRow> = rows
                    .into_iter()
                    .filter(|r| !persons.contains(&r.person_key))
                    .collect();
                self.write_persons(&path, &kept)?;
            }
        }
        Ok(removed)
    }

    fn purge_rows(&self, files: &[PathBuf], keys: &BTreeSet<i64>) -> Result<BTreeMap<i64, u64>> {
        let mut removed: BTreeMap<i64, u64> = BTreeMap::new();
        for path in files {
            let mut hit = false;
            for batch in self.read_events(path)? {
                if batch?.iter().any(|r| keys.contains(&r.key)) {
                    hit = true;
                    break;
                }
            }
            if !hit {
                continue;
            }
            let mut w = self.event_writer(path)?;
            for batch in self.read_events(path)? {
                for r in batch? {
                    if keys.contains(&r.key) {
                        *removed.entry(r.key).or_default() += 1;
                    } else {
                        w.push(r.key, &r.event)?;
                    }
                }
            }
            w.finish()?;
        }
        Ok(removed)
    }

    /// Starts an encrypted events file at `path` (written to a temporary sibling and moved into
    /// place by [`EventFileWriter::finish`]).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Parquet`].
    pub fn event_writer(&self, path: &Path) -> Result<EventFileWriter> {
        EventFileWriter::create(path, self.writer_properties(path)?)
    }

    /// Reads an events file batch by batch; each item holds up to 64 Ki rows.
    ///
    /// # Errors
    /// [`Error::Parquet`] when the file is unreadable or the key is wrong.
    pub fn read_events(
        &self,
        path: &Path,
    ) -> Result<impl Iterator<Item = Result<Vec<EventRow>>> + use<>> {
        let reader = self.batch_reader(path)?;
        let path = path.to_owned();
        Ok(reader.map(move |batch| {
            let batch = batch.map_err(|source| Error::Arrow {
                path: path.clone(),
                source,
            })?;
            events::rows_from_batch(&batch, &path)
        }))
    }

    /// Writes the persons file (atomically).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Parquet`].
    pub fn write_persons(&self, path: &Path, rows: &[PersonRow]) -> Result<()> {
        persons::write(path, rows, self.writer_properties(path)?)
    }

    /// Reads a persons file.
    ///
    /// # Errors
    /// [`Error::Parquet`] when the file is unreadable or the key is wrong.
    pub fn read_persons(&self, path: &Path) -> Result<Vec<PersonRow>> {
        let mut out = Vec::new();
        for batch in self.batch_reader(path)? {
            let batch = batch.map_err(|source| Error::Arrow {
                path: path.to_owned(),
                source,
            })?;
            out.extend(persons::rows_from_batch(&batch, path)?);
        }
        Ok(out)
    }

    fn writer_properties(&self, path: &Path) -> Result<WriterProperties> {
        let encryption = FileEncryptionProperties::builder(self.key.to_vec())
            .with_footer_key_metadata(KEY_METADATA.to_vec())
            .build()
            .map_err(parquet_err(path))?;
        Ok(WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .set_max_row_group_row_count(Some(256 * 1024))
            .with_file_encryption_properties(encryption)
            .build())
    }

    fn batch_reader(
        &self,
        path: &Path,
    ) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
        let decryption = FileDecryptionProperties::builder(self.key.to_vec())
            .build()
            .map_err(parquet_err(path))?;
        let options = ArrowReaderOptions::new().with_file_decryption_properties(decryption);
        let file = File::open(path).map_err(Error::io(path))?;
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
            .and_then(|b| b.with_batch_size(64 * 1024).build())
            .map_err(parquet_err(path))
    }
}

/// A lifecourse being rebuilt (see [`ResearchStore::begin_lifecourse`]).
#[derive(Debug)]
pub struct LifecourseBuild {
    store: ResearchStore,
    dir: PathBuf,
    n_files: u32,
}

impl LifecourseBuild {
    /// The next events file of the new lifecourse.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Parquet`].
    pub fn next_event_writer(&mut self) -> Result<EventFileWriter> {
        let path = self.dir.join(format!("events-{:05}.parquet", self.n_files));
        self.n_files += 1;
        self.store.event_writer(&path)
    }

    /// Writes the persons file of the new lifecourse.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Parquet`].
    pub fn write_persons(&self, rows: &[PersonRow]) -> Result<()> {
        self.store
            .write_persons(&self.dir.join("persons.parquet"), rows)
    }

    /// Replaces the current lifecourse with this one.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn commit(self) -> Result<()> {
        let live = self.store.lifecourse_dir();
        let old = self.store.root.join("lifecourse.old");
        if old.exists() {
            fs::remove_dir_all(&old).map_err(Error::io(&old))?;
        }
        if live.exists() {
            fs::rename(&live, &old).map_err(Error::io(&live))?;
        }
        fs::rename(&self.dir, &live).map_err(Error::io(&live))?;
        if old.exists() {
            fs::remove_dir_all(&old).map_err(Error::io(&old))?;
        }
        File::open(&self.store.root)
            .and_then(|d| d.sync_all())
            .map_err(Error::io(&self.store.root))
    }
}

fn parquet_err(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> Error {
    let path = path.to_owned();
    move |source| Error::Parquet { path, source }
}

fn list_parquet(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
